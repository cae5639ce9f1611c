import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../../src/config/schema.js';
import { startBridge, type Bridge, type BridgeDeps } from '../../src/daemon/app.js';
import { startAmiSimulator, type AmiSimulator, type OnAction } from '../../src/sim/ami-simulator.js';
import { startBitrixEmulator, type BitrixEmulator, type CrmSeed, type RateLimit, type SeedUser } from '../../src/sim/bitrix-emulator.js';
import { benchConfig, devNullLogger } from './bridge-config.js';

/**
 * The whole daemon in-process (startBridge: real AMI connection, core, runtime, outbox, SQLite state, Bitrix24
 * client) between the AMI simulator and the strict Bitrix24 emulator.
 */

export const AMI_USER = 'bench';
export const AMI_SECRET = 'bench-secret';

/** Bitrix24 users 1 (default) and 11.. for extensions 101.. */
export function agentUsers(count: number): { users: SeedUser[]; extensions: Record<string, number>; exts: string[] } {
  const users: SeedUser[] = [{ ID: 1, NAME: 'Default', LAST_NAME: 'Admin', ACTIVE: true, ADMIN: true }];
  const extensions: Record<string, number> = {};
  const exts: string[] = [];
  for (let i = 0; i < count; i++) {
    const ext = String(101 + i);
    users.push({ ID: 11 + i, NAME: `Agent ${ext}`, ACTIVE: true });
    extensions[ext] = 11 + i;
    exts.push(ext);
  }
  return { users, extensions, exts };
}

export interface RigOptions {
  /** The portal's leaky bucket (false: unlimited). */
  portalRateLimit: RateLimit | false;
  /** The bridge's own copy of it (config bitrix.rateLimit). */
  bridgeRateLimit: { perSecond: number; burst: number };
  users: SeedUser[];
  extensions: Record<string, number>;
  /** Emulator clock; default Date.now. */
  portalClock?: () => number;
  /** The config's `recordings` section; default disabled. */
  recordings?: Record<string, unknown>;
  deps?: Partial<BridgeDeps>;
  /** Extra config: each section's keys are merged over the rig's own (asterisk, bitrix, users, ...) or added. */
  config?: Record<string, Record<string, unknown>>;
  /** The AMI simulator's onAction hook (return undefined to keep its built-in answers). */
  onAction?: OnAction;
  /** The emulator's CRM seed. */
  crm?: CrmSeed;
}

export interface Rig {
  pbx: AmiSimulator;
  portal: BitrixEmulator;
  bridge: Bridge;
  config: Config;
  stop(): Promise<void>;
}

export async function startRig(opts: RigOptions): Promise<Rig> {
  const portal = await startBitrixEmulator({
    users: opts.users,
    rateLimit: opts.portalRateLimit,
    ...(opts.crm ? { crm: opts.crm } : {}),
    ...(opts.portalClock ? { clock: opts.portalClock } : {}),
  });
  const pbx = await startAmiSimulator({ username: AMI_USER, secret: AMI_SECRET, ...(opts.onAction ? { onAction: opts.onAction } : {}) });
  const stateDir = mkdtempSync(join(tmpdir(), 'b24bridge-bench-'));
  const doc: Record<string, Record<string, unknown>> = {
    asterisk: { ami: { host: pbx.host, port: pbx.port, username: AMI_USER, secret: AMI_SECRET } },
    bitrix: { webhookUrl: portal.webhookUrl, defaultUserId: 1, rateLimit: opts.bridgeRateLimit },
    users: { extensions: opts.extensions, refreshIntervalSec: 0 },
    state: { dir: stateDir },
    log: { level: 'info', format: 'json' },
    recordings: opts.recordings ?? { enabled: false },
    http: { host: '127.0.0.1', port: 0 },
  };
  for (const [section, keys] of Object.entries(opts.config ?? {})) doc[section] = { ...doc[section], ...keys };
  let config: Config;
  try {
    config = benchConfig(doc);
  } catch (err) {
    await pbx.close();
    await portal.close();
    rmSync(stateDir, { recursive: true, force: true });
    throw err;
  }
  let bridge: Bridge;
  try {
    bridge = await startBridge(config, { logger: devNullLogger(), ...opts.deps });
  } catch (err) {
    await pbx.close();
    await portal.close();
    rmSync(stateDir, { recursive: true, force: true });
    throw err;
  }
  return {
    pbx,
    portal,
    bridge,
    config,
    async stop() {
      await bridge.stop(2000);
      await pbx.close();
      await portal.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
