import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '../../support/ports.js';
import { tempDir } from '../../support/tmp.js';

/**
 * The real Asterisk 22.10.1 of ../shared/asterisk (or ASTERISK_BUNDLE), started from the bundle's own scripts
 * with the live suite's configuration (test/live/asterisk) in a run dir of its own, on free AMI and HTTP ports.
 */

const run = promisify(execFile);

export const PROJECT = fileURLToPath(new URL('../../../', import.meta.url));
export const LIVE_CONFIG = fileURLToPath(new URL('../asterisk/', import.meta.url));

/** The AMI users of test/live/asterisk/manager.conf and the ARI user of ari.conf. */
export const DAEMON_AMI = { username: 'b24bridge', secret: 'live-ami-secret' };
export const DRIVER_AMI = { username: 'driver', secret: 'live-driver-secret' };
export const ARI_USER = { username: 'b24bridge', password: 'live-ari-secret' };

/** Where the bundle is: ASTERISK_BUNDLE, else ../shared/asterisk beside the project. Undefined when neither has it. */
export function findBundle(): string | undefined {
  const dir = process.env['ASTERISK_BUNDLE'] ?? resolve(PROJECT, '../shared/asterisk');
  return existsSync(join(dir, 'start-asterisk.sh')) ? dir : undefined;
}

/** The bundle, or an error that says plainly what the live suite needs. */
export function requireBundle(): string {
  const dir = findBundle();
  if (dir !== undefined) return dir;
  throw new Error(`The live suite needs the Asterisk 22 bundle (start-asterisk.sh and its tarball): set ASTERISK_BUNDLE=/path/to/shared/asterisk.`);
}

export interface Asterisk {
  readonly runDir: string;
  readonly amiPort: number;
  readonly httpPort: number;
  /** MixMonitor files with a relative name land here. */
  readonly monitorDir: string;
  /** The spool's recording/ dir: what ARI serves. */
  readonly recordingDir: string;
  /** One CLI command (`asterisk -rx`), its output. */
  cli(command: string): Promise<string>;
  /** The pid of the running Asterisk (a `core restart now` gives a new one). */
  pid(): number | undefined;
  /** The tail of Asterisk's own log, for failure messages. */
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Defaults to test/live/asterisk. */
  configDir?: string;
  runDir?: string;
}

/**
 * Starts Asterisk (about 1 s) and resolves once it is fully booted. The unpacked bundle is shared between runs
 * in ASTERISK_DIST_DIR (default: one cache dir under the OS temp dir), the run dir is the test's own.
 */
export async function startAsterisk(opts: StartOptions = {}): Promise<Asterisk> {
  const bundle = requireBundle();
  const runDir = opts.runDir ?? join(tempDir('b24live-ast-'), 'run');
  const amiPort = await freePort();
  let httpPort = await freePort();
  while (httpPort === amiPort) httpPort = await freePort();
  const env = { ...process.env, ASTERISK_DIST_DIR: process.env['ASTERISK_DIST_DIR'] ?? join(tmpdir(), 'b24bridge-asterisk-dist') };
  const args = [opts.configDir ?? LIVE_CONFIG, runDir, '--ami-port', String(amiPort), '--http-port', String(httpPort), '--verbose', '3'];
  try {
    await run(join(bundle, 'start-asterisk.sh'), args, { env, timeout: 60_000 });
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    throw new Error(`start-asterisk.sh failed (exit ${e.code}):\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
  const etc = join(runDir, 'etc', 'asterisk.conf');
  const dist = env.ASTERISK_DIST_DIR;
  const binary = join(dist, 'sbin', 'asterisk');
  const pidFile = join(runDir, 'run', 'asterisk.pid');
  return {
    runDir,
    amiPort,
    httpPort,
    monitorDir: join(runDir, 'spool', 'monitor'),
    recordingDir: join(runDir, 'spool', 'recording'),
    async cli(command) {
      const { stdout } = await run(binary, ['-C', etc, '-rx', command], { env: { ...env, LD_LIBRARY_PATH: join(dist, 'lib') } });
      return stdout;
    },
    pid() {
      try {
        const pid = Number(readFileSync(pidFile, 'utf8').trim());
        return Number.isInteger(pid) && pid > 0 ? pid : undefined;
      } catch {
        return undefined;
      }
    },
    logTail(lines = 40) {
      try {
        return readFileSync(join(runDir, 'log', 'messages.log'), 'utf8').split('\n').slice(-lines).join('\n');
      } catch {
        return '(no log)';
      }
    },
    async stop() {
      await run(join(bundle, 'stop-asterisk.sh'), [runDir], { env }).catch(() => undefined);
    },
  };
}
