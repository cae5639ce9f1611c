import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './daemon-process.js';

/**
 * A small tmpfs stands in for a disk that fills up: SQLite's writes on it fail as on a full disk. Mounting needs
 * root (as in CI); elsewhere the tests that need it are skipped.
 */
export const canMountTmpfs = ((): boolean => {
  if (process.getuid?.() !== 0) return false;
  const probe = tempDir('b24mount-');
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe]).status === 0;
  if (ok) spawnSync('umount', [probe]);
  return ok;
})();

/** A fresh tmpfs of `size` (e.g. '2m'); `umount` it when done. */
export function mountTmpfs(size: string): { dir: string; umount: () => void } {
  const dir = tempDir('b24tmpfs-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  return { dir, umount: () => void spawnSync('umount', ['-l', dir]) };
}

/** Writes a file until the file system is full; delete it to give the space back. */
export function fillUp(dir: string): string {
  const filler = join(dir, 'filler');
  const fd = openSync(filler, 'w');
  try {
    for (;;) writeSync(fd, Buffer.alloc(64 * 1024, 1));
  } catch {
    // ENOSPC: full.
  } finally {
    closeSync(fd);
  }
  return filler;
}
