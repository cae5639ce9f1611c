import { copyFile, readdir, rename, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';

/**
 * The directory the recordings pipeline owns, one per daemon: a scratch directory per try (downloads, the MP3
 * being written) and, for each recording still waiting for the portal, its prepared file, so a retry neither
 * waits, downloads nor transcodes again. At start everything else in it was left by a run that died (kill -9,
 * a stop that timed out mid-transcode) and is removed.
 */

/** An outbox attach entry, as far as its prepared file is concerned (seq alone is reused after a restart). */
export interface PreparedKey {
  seq: number;
  key: string;
}

export interface PreparedFile {
  file: string;
  format: 'mp3' | 'wav';
  /** Taken from a file that was still being written: its original must not be removed. */
  partial: boolean;
}

const PREPARED = /^prepared-(\d+)-(.+?)(\.partial)?\.(mp3|wav)$/;

export function workDirFor(tmpDir: string | undefined, stateDir: string): string {
  return tmpDir === undefined ? join(stateDir, 'recordings') : join(tmpDir, 'asterisk-b24-bridge-recordings');
}

/** Linkedids are `1795263642.90`; anything else a PBX may send is made safe for a file name. */
const safeKey = (key: string) => key.replace(/[^A-Za-z0-9._-]/g, '_');

function preparedName(k: PreparedKey, format: 'mp3' | 'wav', partial: boolean): string {
  return `prepared-${k.seq}-${safeKey(k.key)}${partial ? '.partial' : ''}.${format}`;
}

async function list(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/**
 * Start-up: removes everything but the prepared files of `pending` entries. A directory that does not exist is
 * left so (it is created on the first recording). Returns what was removed and kept, for the log.
 */
export async function clearStale(dir: string, pending: readonly PreparedKey[]): Promise<{ removed: string[]; kept: string[] }> {
  const wanted = new Set(pending.map((k) => `${k.seq}-${safeKey(k.key)}`));
  const removed: string[] = [];
  const kept: string[] = [];
  for (const name of await list(dir)) {
    const m = PREPARED.exec(name);
    if (m && wanted.has(`${m[1]}-${m[2]}`)) {
      kept.push(name);
      continue;
    }
    await rm(join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return { removed, kept };
}

/** Whether `name` is the prepared file of `k`. */
function isPreparedOf(name: string, k: PreparedKey): RegExpExecArray | undefined {
  const m = PREPARED.exec(name);
  return m && m[1] === String(k.seq) && m[2] === safeKey(k.key) ? m : undefined;
}

export async function findPrepared(dir: string, k: PreparedKey): Promise<PreparedFile | undefined> {
  for (const name of await list(dir)) {
    const m = isPreparedOf(name, k);
    if (m) return { file: join(dir, name), format: m[4] as 'mp3' | 'wav', partial: m[3] !== undefined };
  }
  return undefined;
}

/**
 * Keeps `source` as the entry's prepared file. A file in the scratch directory is moved; any other (the original
 * WAV) is copied. Either way the final name appears complete or not at all: a crash never leaves half a file there.
 */
export async function keepPrepared(dir: string, scratch: string, k: PreparedKey, source: string, format: 'mp3' | 'wav', partial: boolean): Promise<PreparedFile> {
  const file = join(dir, preparedName(k, format, partial));
  const inScratch = !relative(scratch, source).startsWith('..');
  if (inScratch) await rename(source, file);
  else {
    const part = join(scratch, 'copy.part');
    await copyFile(source, part);
    await rename(part, file);
  }
  return { file, format, partial };
}

export async function dropPrepared(dir: string, k: PreparedKey): Promise<void> {
  for (const name of await list(dir)) if (isPreparedOf(name, k)) await rm(join(dir, name), { force: true });
}
