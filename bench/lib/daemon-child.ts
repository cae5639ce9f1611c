import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CallsArgs, ChildMessage, ParentMessage, SoakArgs } from './memory-child.js';

/**
 * The daemon in a process of its own (bench/lib/memory-child.ts), as production runs it: plain node with the
 * systemd unit's V8 flags, its code bundled by esbuild. Items 2 (card-pop) and 5 (memory) use it, so that neither
 * the simulators' work (they share the parent's event loop) nor the tsx loader is inside the daemon's numbers.
 */

const CHILD = fileURLToPath(new URL('./memory-child.ts', import.meta.url));
const OUT_DIR = fileURLToPath(new URL('../.out/', import.meta.url));

export interface ChildCommand {
  script: string;
  execArgv: string[];
  note: string;
}

/** The systemd unit's Environment= lines (NODE_OPTIONS, MALLOC_TRIM_THRESHOLD_...): the child runs as production does. */
export function unitEnvironment(): Record<string, string> {
  const unit = readFileSync(fileURLToPath(new URL('../../systemd/asterisk-b24-bridge.service', import.meta.url)), 'utf8');
  const env: Record<string, string> = {};
  for (const m of unit.matchAll(/^Environment="?([A-Z_]+)=([^"\n]*)"?$/gm)) env[m[1]!] = m[2]!.trim();
  return env;
}

/** The V8 flags of the unit's NODE_OPTIONS, given to the child as its execArgv. */
export function unitNodeOptions(): string[] {
  const flags = unitEnvironment()['NODE_OPTIONS'];
  return flags ? flags.split(/\s+/) : [];
}

/** The rest of the unit's environment (malloc tuning, NODE_ENV), over this process's own. */
function childEnv(): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _flags, ...rest } = unitEnvironment();
  return { ...process.env, ...rest };
}

/** The child as plain JavaScript (esbuild bundle, npm packages left external), or the .ts under tsx as a fallback. */
export async function childCommand(log: (l: string) => void): Promise<ChildCommand> {
  try {
    const esbuild = await import('esbuild');
    mkdirSync(OUT_DIR, { recursive: true });
    const script = `${OUT_DIR}memory-child.mjs`;
    await esbuild.build({ entryPoints: [CHILD], outfile: script, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'error' });
    const flags = unitNodeOptions();
    const env = Object.entries(unitEnvironment()).filter(([k]) => k !== 'NODE_OPTIONS').map(([k, v]) => `${k}=${v}`);
    return { script, execArgv: ['--expose-gc', ...flags], note: `${env.join(' ')} node ${flags.join(' ')} (the unit's environment), esbuild bundle of the daemon code` };
  } catch (err) {
    log(`  esbuild unavailable (${(err as Error).message}); running the child under tsx, whose loader adds ~30 MB`);
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    return { script: CHILD, execArgv: ['--expose-gc', ...unitNodeOptions(), '--import', tsx], note: 'under tsx (its loader adds ~30 MB)' };
  }
}

export function startChild(cmd: ChildCommand, args: CallsArgs | SoakArgs): { child: ChildProcess; next: () => Promise<ChildMessage> } {
  const child = fork(cmd.script, [JSON.stringify(args)], { execArgv: cmd.execArgv, env: childEnv(), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const inbox: ChildMessage[] = [];
  const waiters: Array<(m: ChildMessage) => void> = [];
  let failure: Error | undefined;
  child.on('message', (m: ChildMessage) => {
    const w = waiters.shift();
    if (w) w(m);
    else inbox.push(m);
  });
  child.on('exit', (code) => {
    failure = new Error(`daemon child exited with code ${code}`);
  });
  const next = () =>
    new Promise<ChildMessage>((resolve, reject) => {
      const m = inbox.shift();
      if (m) return resolve(m);
      if (failure) return reject(failure);
      const timer = setTimeout(() => reject(new Error('daemon child: no answer within 5 minutes')), 300_000);
      waiters.push((msg) => {
        clearTimeout(timer);
        resolve(msg);
      });
      child.once('exit', () => reject(failure ?? new Error('daemon child exited')));
    });
  return { child, next };
}

export const tell = (child: ChildProcess, m: ParentMessage) => child.send(m);

/** Asks the child to stop (state dir removed) and waits for it; a child already gone is left alone. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  if (child.connected) tell(child, { type: 'stop' });
  else child.kill();
  await exited;
}
