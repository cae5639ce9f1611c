import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { startBridge, type Bridge, type BridgeDeps } from '../../src/daemon/app.js';
import { DEMO_CRM, DEMO_USERS } from '../../src/demo/scenarios.js';
import { startAmiSimulator, type AmiSimulator, type AmiSimulatorOptions } from '../../src/sim/ami-simulator.js';
import { startBitrixEmulator, type BitrixEmulator, type EmulatorOptions } from '../../src/sim/bitrix-emulator.js';
import { silentLogger } from './logger.js';
import { tempDir } from './tmp.js';

/**
 * The end-to-end rig: the AMI simulator, the Bitrix24 emulator and the daemon wired in this process
 * (startBridge), with a real state directory. `config` is merged over a minimal config that points at both.
 */

export interface Rig {
  portal: BitrixEmulator;
  pbx: AmiSimulator;
  bridge: Bridge;
  config: Config;
  stateDir: string;
  /** http://127.0.0.1:<port> of the daemon's own endpoint. */
  base: string;
  /** Stops the daemon only (the portal and PBX stay, for a restart on the same state). */
  stopBridge(drainMs?: number): Promise<void>;
  /** Starts the daemon again on the same state directory and config. */
  restartBridge(): Promise<Bridge>;
  close(): Promise<void>;
}

export interface RigOptions {
  portal?: EmulatorOptions;
  pbx?: Partial<AmiSimulatorOptions>;
  /** Merged over the rig's config (deep for objects). */
  config?: (rig: { portal: BitrixEmulator; pbx: AmiSimulator }) => Record<string, unknown>;
  deps?: Partial<BridgeDeps>;
  /** Runs once the portal and the PBX are up, before the daemon starts (a portal down at start, say). */
  beforeStart?: (peers: { portal: BitrixEmulator; pbx: AmiSimulator }) => void;
}

export async function startRig(opts: RigOptions = {}): Promise<Rig> {
  const portal = await startBitrixEmulator({ users: DEMO_USERS, crm: DEMO_CRM, ...opts.portal });
  const pbx = await startAmiSimulator({ username: 'bridge', secret: 'ami-secret', ...opts.pbx });
  const stateDir = join(tempDir('b24rig-'), 'state');
  const base = {
    asterisk: { ami: { host: pbx.host, port: pbx.port, username: 'bridge', secret: 'ami-secret', reconnect: { initialDelayMs: 200, maxDelayMs: 400 } } },
    bitrix: { webhookUrl: portal.webhookUrl, defaultUserId: 1 },
    users: { refreshIntervalSec: 900 },
    http: { host: '127.0.0.1', port: 0 },
    state: { dir: stateDir },
    recordings: { enabled: false },
  };
  const config = parseConfig(merge(base, opts.config?.({ portal, pbx }) ?? {}));
  const start = () => startBridge(config, { logger: silentLogger, ...opts.deps });
  opts.beforeStart?.({ portal, pbx });
  let bridge = await start();
  let running = true;
  const rig: Rig = {
    portal,
    pbx,
    get bridge() {
      return bridge;
    },
    config,
    stateDir,
    get base() {
      return `http://127.0.0.1:${bridge.endpoint.server.port}`;
    },
    async stopBridge(drainMs = 2_000) {
      if (running) await bridge.stop(drainMs);
      running = false;
    },
    async restartBridge() {
      await rig.stopBridge();
      bridge = await start();
      running = true;
      return bridge;
    },
    async close() {
      await rig.stopBridge();
      await pbx.close();
      await portal.close();
    },
  };
  return rig;
}

/** Deep merge of plain objects; arrays and values from `over` replace; an undefined value in `over` removes the key. */
export function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    if (v === undefined) delete out[k];
    else out[k] = isPlain(b) && isPlain(v) ? merge(b, v) : v;
  }
  return out;
}

function isPlain(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
