import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CLI } from '../support/daemon-process.js';

const REPO = join(CLI, '..', '..');
const run = promisify(execFile);
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  bin: Record<string, string>; main: string; scripts: Record<string, string>;
};

/** The README's quick start and the package's entry points, as a fresh clone uses them (npm test builds first). */
describe('the quick start and the package entry points', () => {
  it('points bin, main and every "node <file>" in the scripts at files the build produces', () => {
    const scriptFiles = Object.values(pkg.scripts).flatMap((s) => [...s.matchAll(/\bnode (\S+\.js)\b/g)].map((m) => m[1]!));
    const paths = [...Object.values(pkg.bin), pkg.main, ...scriptFiles];
    expect(scriptFiles.length).toBeGreaterThan(0);
    for (const p of paths) expect(existsSync(join(REPO, p)), `${p} exists after the build`).toBe(true);
  });

  it('runs the demo through the demo script\'s own command line and prints what the portal received', async () => {
    const command = pkg.scripts.demo!.split('&&').pop()!.trim().split(/\s+/);
    expect(command[0]).toBe('node');
    const { stdout } = await run(process.execPath, [...command.slice(1), '--trace', 'support_ringall_answer', '--speed', '50'], {
      cwd: REPO, timeout: 60_000,
    });
    expect(stdout).toMatch(/finish {3}USER_ID=12 DURATION=5s STATUS_CODE=200/);
  }, 90_000);
});
