import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startBitrixEmulator, type BitrixEmulator } from '../../src/sim/bitrix-emulator.js';
import { kvGet, openStateDb } from '../../src/store/db.js';
import { LIMITER_KEY } from '../../src/store/limiter-state.js';
import { removeTempDirs, tempDir } from '../support/tmp.js';
import { waitFor } from '../support/wait.js';

/**
 * kill -9 under load, then a restart, against the emulator's strict bucket (2/s, burst 50: a request past 50 is
 * answered 503). The sender is the daemon's delivery side as a process (test/store/fixtures/limiter-child.ts).
 */

const CHILD = fileURLToPath(new URL('./fixtures/limiter-child.ts', import.meta.url));
let portal: BitrixEmulator | undefined;
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await portal?.close();
  portal = undefined;
});
afterAll(removeTempDirs);

function sender(dir: string, count: number, first: number, env: Record<string, string> = {}): { child: ChildProcess; exited: Promise<unknown>; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, portal!.webhookUrl, String(count), String(first)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, exited: new Promise((r) => child.on('exit', r)), output: () => out };
}

const refused = () => portal!.requests.filter((r) => r.status === 503).length;
const answered = (from: number) => portal!.requests.slice(from).filter((r) => r.status === 200).length;

/** A sender under load until the portal's bucket is full, then killed -9; returns the state dir. */
async function killedUnderLoad(): Promise<string> {
  portal = await startBitrixEmulator();
  const dir = join(tempDir('b24limiter-'), 'state');
  const first = sender(dir, 200, 0);
  // The burst, then a few requests at the drain rate: the portal's bucket is as full as the sender lets it be.
  await waitFor(() => portal!.requests.length >= 50, `the first sender to fill the bucket (${first.output()})`, 20_000);
  first.child.kill('SIGKILL');
  await first.exited;
  expect(refused()).toBe(0);
  return dir;
}

describe('the rate limiter across a kill -9', () => {
  it('starts from the level the killed run saved, drained since, so the first burst after the restart meets no 503', async () => {
    const dir = await killedUnderLoad();
    const db = openStateDb(dir);
    const saved = kvGet<{ level: number; at: number }>(db, LIMITER_KEY);
    db.close();
    expect(saved?.level).toBeGreaterThan(40);

    const before = portal!.requests.length;
    const second = sender(dir, 20, 1000);
    // The restarted sender works through what the first left and its own, paced at the portal's rate.
    await waitFor(() => answered(before) >= 6, `six answered requests after the restart (${second.output()})`, 20_000);
    expect(refused()).toBe(0);
  }, 60_000);

  it('would have met 503s starting from an empty bucket, as before (the check above can fail)', async () => {
    const dir = await killedUnderLoad();
    const before = portal!.requests.length;
    sender(dir, 20, 1000, { LIMITER: 'plain' });
    await waitFor(() => refused() > 0, 'a 503 for the burst of the restarted sender', 20_000);
    expect(answered(before)).toBeGreaterThan(0);
  }, 60_000);
});
