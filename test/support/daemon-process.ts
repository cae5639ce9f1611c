import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { tempDir } from './tmp.js';

// Some tests still take tempDir from here; it is the toolkit's one (tmp.ts).
export { tempDir } from './tmp.js';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface DaemonProcess {
  child: ChildProcess;
  configFile: string;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  alive(): boolean;
  /** http://host:port of its HTTP server, read from its "started" log line (JSON logs); undefined before that. */
  httpBase(): string | undefined;
}

function requireBuild(): void {
  if (!existsSync(CLI)) throw new Error('dist/cli.js is missing: run `npm run build` (npm test does it first)');
}

/** Writes `config` as YAML to a fresh temp dir; `state.dir` defaults to `state` beside it. Returns the file. */
export function writeConfig(config: Record<string, unknown>): string {
  const dir = tempDir('b24bridge-e2e-');
  const file = join(dir, 'config.yaml');
  writeFileSync(file, stringify({ ...config, state: (config['state'] as object | undefined) ?? { dir: join(dir, 'state') } }));
  return file;
}

export interface RunOptions {
  /** Put before the command line (e.g. `nsenter ...` to run it where a namespaced tmpfs is mounted). */
  wrap?: string[];
}

/** [command, ...args] of the CLI with `args`, wrapped. */
function command(args: string[], o: RunOptions): [string, string[]] {
  const [cmd, ...rest] = [...(o.wrap ?? []), process.execPath, CLI, ...args];
  return [cmd!, rest];
}

/**
 * Runs the built daemon (`node dist/cli.js run`) with a config written to a temp dir; env may carry secrets.
 * `state.dir` defaults to a fresh temp dir; pass one explicitly to restart on the same state.
 */
export function startDaemon(config: Record<string, unknown>, env: Record<string, string> = {}, o: RunOptions = {}): DaemonProcess {
  requireBuild();
  const file = writeConfig(config);
  const child = spawn(...command(['run', '--config', file], o), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  let exited = false;
  child.on('exit', () => (exited = true));
  // 'close', not 'exit': its last lines are read by then.
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    configFile: file,
    output: () => out,
    alive: () => !exited,
    httpBase() {
      const started = out.split('\n').find((l) => l.includes('"asterisk-b24-bridge started"'));
      return started === undefined ? undefined : `http://${(JSON.parse(started) as { http: string }).http}`;
    },
    async stop(signal = 'SIGTERM') {
      if (!exited) child.kill(signal);
      return exit;
    },
  };
}

/** Runs another CLI command (check, parked...) to completion; returns its exit code and output. */
export function runCli(args: string[], env: Record<string, string> = {}, o: RunOptions = {}): Promise<{ code: number | null; output: string }> {
  requireBuild();
  const child = spawn(...command(args, o), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
}
