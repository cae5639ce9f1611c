import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { requireTool } from './tools.js';
import { tempDir } from './tmp.js';

/** A small tmpfs stands in for a disk that fills up: SQLite's writes on it fail as on a full disk. */

export interface NamespacedTmpfs {
  /** The tmpfs as this process reaches it, for plain file operations (through /proc/<pid>/root: not for SQLite, which resolves that link). */
  dir: string;
  /** The tmpfs as a process started through `wrap` sees it. */
  innerDir: string;
  /** Put before a command line to run it where the tmpfs is mounted (`nsenter` into its namespaces). */
  wrap: string[];
  /** Gives the tmpfs up. */
  umount(): void;
}

/**
 * A tmpfs for a child process, as root (CI) and as anyone else alike: mounted in a user and mount namespace of its
 * own (`unshare --user --map-root-user --mount`, where any user is root) and held by a process that lives as long as
 * this one; processes started through `wrap` see it at `innerDir`. Nothing is mounted on the host, so nothing is
 * left mounted either. Throws, saying why, where it cannot be made.
 */
export function namespacedTmpfs(size: string): NamespacedTmpfs {
  requireTool('unshare');
  requireTool('nsenter');
  const mountPoint = tempDir('b24tmpfs-');
  // The holder: `tail --pid` exits with this process, so a crashed test leaves no namespace behind.
  const script = 'mount -t tmpfs -o "size=$1" tmpfs "$2" && { tail --pid="$3" -f /dev/null </dev/null >/dev/null 2>&1 & echo $!; }';
  const res = spawnSync('unshare', ['--user', '--map-root-user', '--mount', 'sh', '-c', script, 'sh', size, mountPoint, String(process.pid)], { encoding: 'utf8' });
  const holder = Number(res.stdout.trim());
  if (res.status !== 0 || !Number.isInteger(holder) || holder <= 0) {
    throw new Error(`could not mount a tmpfs in a user namespace (unshare --user --map-root-user --mount: exit ${res.status}, ${res.stderr.trim()}); the kernel must allow user namespaces (sysctl user.max_user_namespaces > 0)`);
  }
  return {
    dir: `/proc/${holder}/root${mountPoint}`,
    innerDir: mountPoint,
    wrap: ['nsenter', `--target=${holder}`, '--user', '--mount', '--preserve-credentials'],
    umount: () => {
      try {
        process.kill(holder);
      } catch {
        // Already gone.
      }
    },
  };
}

/**
 * A tmpfs mounted on the host, for code that runs in this process (SQLite opened here): needs root, which
 * canMountTmpfs tells. A test with a child process uses namespacedTmpfs, which needs no root.
 */
export const canMountTmpfs = ((): boolean => {
  if (process.getuid?.() !== 0) return false;
  const probe = tempDir('b24mount-');
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe]).status === 0;
  if (ok) spawnSync('umount', [probe]);
  return ok;
})();

/** A fresh tmpfs of `size` (e.g. '2m') on the host; `umount` it when done. */
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
