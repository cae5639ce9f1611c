import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { join } from 'node:path';
import { DEMO_USERS } from '../../../src/demo/scenarios.js';
import { startBitrixEmulator, type BitrixEmulator } from '../../../src/sim/bitrix-emulator.js';
import { CLI, runCli, startDaemon, writeConfig, type DaemonProcess } from '../../support/daemon-process.js';
import { freePort } from '../../support/ports.js';
import { removeTempDirs, tempDir } from '../../support/tmp.js';
import { waitFor } from '../../support/wait.js';
import { ARI_USER, DAEMON_AMI, startAsterisk, type Asterisk } from './asterisk.js';
import { PbxDriver } from './pbx.js';

/**
 * The live test bed: one real Asterisk per test file (with the test's driver session), and per test a fresh
 * Bitrix24 emulator and the built daemon as a process (`node dist/cli.js run`), with its own state dir and HTTP
 * port, configured the way the README tells an admin to (contexts, the AMI user, the user map).
 */

export interface Bed {
  ast: Asterisk;
  pbx: PbxDriver;
}

export async function startBed(): Promise<Bed> {
  if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` (npm run test:live does it first)');
  const ast = await startAsterisk();
  const pbx = new PbxDriver(ast.amiPort);
  await pbx.connect();
  return { ast, pbx };
}

export async function stopBed(bed: Bed | undefined): Promise<void> {
  await bed?.pbx.close().catch(() => undefined);
  await bed?.ast.stop();
  removeTempDirs();
}

/** Agents 1xx, 2xx, 3xx are Bitrix24 users 1x, 2x, 3x; user 1 owns the calls nobody answered. */
export const USERS: Record<string, number> = { '101': 11, '102': 12, '103': 13, '201': 21, '202': 22, '203': 23, '301': 31, '302': 32, '303': 33 };
export const DEFAULT_USER = 1;
export const APP_TOKEN = 'live-application-token';

/** The emulated portal's users: the demo's, which cover every agent of the traces (301-303 included). */
const SEED_USERS = DEMO_USERS;

export interface DaemonOptions {
  /** Click-to-call over ARI instead of AMI. */
  clickVia?: 'ami' | 'ari';
  /** Recordings downloaded over ARI from the spool's recording/ dir (the dialplan's RECORD=ari). */
  recordingsOverAri?: boolean;
  ringBack?: Record<string, unknown>;
  /** Where the daemon finds ARI (default: Asterisk's own HTTP port), e.g. an HttpSpy in front of it. */
  ariUrl?: string;
  /**
   * Application mode: the portal refuses webhooks for telephony; the daemon is a local application authorised with
   * `auth --code` before it starts, and takes click-to-call as offline events.
   */
  app?: boolean;
  /** The `transcripts:` section (issue 18), e.g. pointing at a fake speech-to-text server. */
  transcripts?: Record<string, unknown>;
}

/** The local application the emulated portal knows in application mode. */
export const LIVE_APP = { clientId: 'local.live000000000000.00000000', clientSecret: 'live-app-client-secret' };

export interface LiveDaemon {
  readonly portal: BitrixEmulator;
  readonly process: DaemonProcess;
  readonly eventsUrl: string;
  /** Every line the daemon wrote, across restarts. */
  output(): string;
  /** kill -9. */
  kill(): Promise<void>;
  /** Start again on the same state dir and config; resolves once it has resynced with Asterisk. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startLiveDaemon(bed: Bed, opts: DaemonOptions = {}): Promise<LiveDaemon> {
  const { ast } = bed;
  const portal = await startBitrixEmulator({ users: SEED_USERS, ...(opts.app ? { app: LIVE_APP, refuseWebhookTelephony: true } : {}) });
  const stateDir = join(tempDir('b24live-state-'), 'state');
  const httpPort = await freePort();
  // The ARI password comes from the environment (B24BRIDGE_ARI_PASSWORD), like the other secrets.
  const ari = { url: `${opts.ariUrl ?? `http://127.0.0.1:${ast.httpPort}`}/ari`, username: ARI_USER.username };
  const config = {
    asterisk: {
      ami: { host: '127.0.0.1', port: ast.amiPort, username: DAEMON_AMI.username, pingIntervalMs: 2000, reconnect: { initialDelayMs: 200, maxDelayMs: 1000 } },
      contexts: { inbound: ['incoming'], outbound: ['outbound'], internal: ['from-internal', 'agents'] },
      ari,
    },
    bitrix: opts.app
      ? {
          auth: { mode: 'app' },
          app: { clientId: LIVE_APP.clientId, portalUrl: portal.url, oauthUrl: portal.oauthUrl, events: 'offline', eventsPollMs: 200 },
          defaultUserId: DEFAULT_USER,
          timeoutMs: 5000,
        }
      : { applicationToken: APP_TOKEN, defaultUserId: DEFAULT_USER, timeoutMs: 5000 },
    users: { extensions: USERS, refreshIntervalSec: 0 },
    http: { host: '127.0.0.1', port: httpPort },
    clickToCall: { via: opts.clickVia ?? 'ami', agentChannel: 'Local/{ext}@agents/n', context: 'outbound', callerId: 'Click2Call <{number}>' },
    recordings: {
      stableMs: 300,
      appearTimeoutMs: 10_000,
      ...(opts.recordingsOverAri ? { source: { type: 'ari', ari: { recordingDir: ast.recordingDir } } } : {}),
    },
    ringBack: { cooldownSec: 60, ...opts.ringBack },
    ...(opts.transcripts ? { transcripts: opts.transcripts } : {}),
    outbox: { maxRetryDelayMs: 1000 },
    state: { dir: stateDir },
    log: { level: 'debug', format: 'json' },
  };
  // Secrets from the environment, as the README recommends: they must reach neither the config file nor the log.
  const env: Record<string, string> = {
    B24BRIDGE_AMI_SECRET: DAEMON_AMI.secret,
    B24BRIDGE_ARI_PASSWORD: ARI_USER.password,
    ...(opts.app ? { B24BRIDGE_APP_CLIENT_SECRET: LIVE_APP.clientSecret } : { B24BRIDGE_WEBHOOK_URL: portal.webhookUrl }),
  };
  if (opts.app) {
    // What the admin of a PBX behind NAT does: `auth` prints the URL, the browser gives a code, `auth --code`.
    const authorised = await runCli(['auth', '--config', writeConfig(config), '--code', portal.authorizationCode()], env);
    if (authorised.code !== 0) throw new Error(`auth --code failed:\n${authorised.output}`);
  }
  let earlier = '';
  let proc = startDaemon(config, env);
  const ready = async (p: DaemonProcess): Promise<void> => {
    const up = () => /resynced calls with Asterisk/.test(p.output()) && /queue state reconciled/.test(p.output());
    await waitFor(() => !p.alive() || up(), 'the daemon to log in to Asterisk, resync its calls and reconcile the queues', 20_000);
    if (!p.alive()) throw new Error(`the daemon exited:\n${p.output().slice(-3000)}`);
  };
  await ready(proc);
  return {
    portal,
    get process() {
      return proc;
    },
    eventsUrl: `http://127.0.0.1:${httpPort}/bitrix/events`,
    output: () => earlier + proc.output(),
    async kill() {
      await proc.stop('SIGKILL');
    },
    async restart() {
      earlier += proc.output();
      proc = startDaemon(config, env);
      await ready(proc);
    },
    async stop() {
      await proc.stop('SIGTERM');
      await portal.close();
    },
  };
}

/** The daemon's JSON log lines, parsed (lines that are not JSON are left out). */
export function logLines(live: LiveDaemon): Array<Record<string, unknown>> {
  return live
    .output()
    .split('\n')
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}

export interface LiveLab {
  /** This file's Asterisk (started before its first test). */
  readonly bed: Bed;
  /** Starts this test's daemon; it is stopped after the test, once the PBX has no call left. */
  daemon(opts?: DaemonOptions): Promise<LiveDaemon>;
}

/**
 * One Asterisk per test file and at most one daemon per test: registers the hooks that start and stop them.
 * `afterEachTest` runs after the daemon stopped and the PBX went idle (e.g. to undo queue pauses a test left).
 */
export function liveBed(o: { afterEachTest?: (bed: Bed) => Promise<void> } = {}): LiveLab {
  let bed: Bed | undefined;
  let live: LiveDaemon | undefined;
  beforeAll(async () => {
    bed = await startBed();
  });
  afterEach(async () => {
    await live?.stop();
    live = undefined;
    await bed?.pbx.idle(30_000);
    if (bed) await o.afterEachTest?.(bed);
  });
  afterAll(() => stopBed(bed));
  return {
    get bed() {
      if (!bed) throw new Error('the live bed is not started (use it inside a test)');
      return bed;
    },
    async daemon(opts = {}) {
      live = await startLiveDaemon(this.bed, opts);
      return live;
    },
  };
}
