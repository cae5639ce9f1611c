import { afterEach } from 'vitest';
import { DEMO_USERS } from '../../src/demo/scenarios.js';
import { startAmiSimulator, type AmiSimulator, type AmiSimulatorOptions } from '../../src/sim/ami-simulator.js';
import { startBitrixEmulator, type BitrixEmulator, type EmulatorOptions } from '../../src/sim/bitrix-emulator.js';
import { startDaemon, writeConfig, type DaemonProcess, type RunOptions } from './daemon-process.js';
import { merge } from './rig.js';
import { waitFor } from './wait.js';

/**
 * The end-to-end rig with the daemon as a real process (the built CLI): the AMI simulator and the Bitrix24
 * emulator in this process, and as many daemons as a test starts (one after another on the same state dir, to
 * test restarts). `start` waits until the daemon has logged in to AMI, asked for the live channels (resync) and
 * logged that it started (its HTTP server listens then).
 */

export const AMI_USER = 'b24bridge';
export const AMI_SECRET = 'ami-s3cret';

export interface ProcessRig {
  portal: BitrixEmulator;
  pbx: AmiSimulator;
  /** The config a daemon gets: the rig's, with `extra` merged over it (deep; an undefined value removes a key). */
  config(extra?: Record<string, unknown>): Record<string, unknown>;
  /** That config written to a file, for the CLI's other commands (check, auth, parked). */
  configFile(extra?: Record<string, unknown>): string;
  /** Starts a daemon and waits for its login and resync; env may carry secrets. */
  start(extra?: Record<string, unknown>, env?: Record<string, string>, run?: RunOptions): Promise<DaemonProcess>;
  /** Every daemon started, in order. */
  daemons: DaemonProcess[];
  /** Kills the daemons (SIGKILL), then closes the simulator and the emulator. */
  close(): Promise<void>;
}

export interface ProcessRigOptions {
  portal?: EmulatorOptions;
  pbx?: Partial<AmiSimulatorOptions>;
}

export async function startProcessRig(o: ProcessRigOptions = {}): Promise<ProcessRig> {
  const portal = await startBitrixEmulator({ users: DEMO_USERS, ...o.portal });
  const pbx = await startAmiSimulator({ username: AMI_USER, secret: AMI_SECRET, ...o.pbx });
  const daemons: DaemonProcess[] = [];
  const resyncs = () => pbx.received.filter((a) => a['Action'] === 'CoreShowChannels').length;
  const config = (extra: Record<string, unknown> = {}) =>
    merge(
      {
        asterisk: { ami: { host: pbx.host, port: pbx.port, username: AMI_USER, secret: AMI_SECRET, pingIntervalMs: 1000, reconnect: { initialDelayMs: 100, maxDelayMs: 400 } } },
        bitrix: { webhookUrl: portal.webhookUrl, defaultUserId: 1 },
        http: { host: '127.0.0.1', port: 0 },
        log: { level: 'debug', format: 'json' },
      },
      extra,
    );
  return {
    portal,
    pbx,
    daemons,
    config,
    configFile: (extra = {}) => writeConfig(config(extra)),
    async start(extra = {}, env = {}, run = {}) {
      const before = resyncs();
      const daemon = startDaemon(config(extra), env, run);
      daemons.push(daemon);
      await waitFor(() => (resyncs() > before && daemon.httpBase() !== undefined) || !daemon.alive(), 'the daemon to log in to AMI, resync and say it started', 20_000);
      if (!daemon.alive()) throw new Error(`the daemon exited at start:\n${daemon.output()}`);
      return daemon;
    },
    async close() {
      for (const d of daemons.splice(0)) await d.stop('SIGKILL');
      await pbx.close();
      await portal.close();
    },
  };
}

export interface RigPerTest {
  /** Starts this test's rig; it is closed after the test. */
  start(o?: ProcessRigOptions): Promise<ProcessRig>;
  rig(): ProcessRig;
  pbx(): AmiSimulator;
  portal(): BitrixEmulator;
  /** The daemon this test started last. */
  daemon(): DaemonProcess;
}

/** One rig per test of the file that calls this (at its top level): started by the test, closed after it. */
export function processRigPerTest(): RigPerTest {
  let current: ProcessRig | undefined;
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  const rig = (): ProcessRig => {
    if (current === undefined) throw new Error('no rig started in this test');
    return current;
  };
  return {
    async start(o) {
      current = await startProcessRig(o);
      return current;
    },
    rig,
    pbx: () => rig().pbx,
    portal: () => rig().portal,
    daemon: () => {
      const last = rig().daemons.at(-1);
      if (last === undefined) throw new Error('no daemon started in this test');
      return last;
    },
  };
}
