import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface DaemonProcess {
  child: ChildProcess;
  configFile: string;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  alive(): boolean;
}

/** Runs the built daemon (`node dist/cli.js run`) with a config written to a temp dir; env may carry secrets. */
export function tempDir(prefix = 'b24bridge-e2e-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** `state.dir` defaults to a fresh temp dir; pass one explicitly to restart on the same state. */
export function startDaemon(config: Record<string, unknown>, env: Record<string, string> = {}): DaemonProcess {
  const dir = tempDir();
  const file = join(dir, 'config.yaml');
  const withState = { ...config, state: (config['state'] as object | undefined) ?? { dir: join(dir, 'state') } };
  writeFileSync(file, stringify(withState));
  const child = spawn(process.execPath, [CLI, 'run', '--config', file], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  let exited = false;
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => ((exited = true), resolve(code))));
  return {
    child,
    configFile: file,
    output: () => out,
    alive: () => !exited,
    async stop(signal = 'SIGTERM') {
      if (!exited) child.kill(signal);
      return exit;
    },
  };
}

/** Runs another CLI command (check, parked...) to completion; returns its exit code and output. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

export async function waitFor<T>(probe: () => T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
