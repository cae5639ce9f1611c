import { constants } from 'node:fs';
import { access, rm, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { createAriSource, type AriCredentials } from './ari.js';

/**
 * Turns the path Asterisk reports (MIXMONITOR_FILENAME, on the PBX's file system) into something this host
 * can read: the same path (local), a rewritten path (the spool directory mounted here), or an ARI download.
 */

export interface LocatedRecording {
  /** Where it is read from, for logs (never contains credentials). */
  readonly where: string;
  /** Current size in bytes, or undefined while the file does not exist yet. */
  size(): Promise<number | undefined>;
  /** A local path holding the complete file; call after size() reported it stable. */
  localPath(): Promise<string>;
  /** Deletes the original (keepOriginals: false). */
  removeOriginal(): Promise<void>;
}

/** `workDir` is this try's private scratch directory: created by whoever writes there first, removed by the caller. */
export type Locator = (asteriskPath: string, workDir: string) => LocatedRecording;

/** The path cannot be mapped to anything readable: configuration, not a transient failure. */
export class UnlocatableError extends Error {
  override readonly name = 'UnlocatableError';
}

/** A file this host cannot read (permissions): reported, never retried. */
export class UnreadableError extends Error {
  override readonly name = 'UnreadableError';
}

export type SourceConfig =
  | { type: 'local' }
  | { type: 'mount'; rewrite: { from: string; to: string } }
  | { type: 'ari'; recordingDir: string; ari: AriCredentials; timeoutMs: number; fetch?: typeof fetch };

export function createLocator(source: SourceConfig): Locator {
  switch (source.type) {
    case 'local':
      return (path) => localFile(checkedAbsolute(path));
    case 'mount':
      return (path) => localFile(rewritePath(checkedAbsolute(path), source.rewrite));
    case 'ari': {
      const ari = createAriSource(source);
      return (path, workDir) => ari.open(storedRecordingName(checkedAbsolute(path), source.recordingDir), workDir);
    }
  }
}

/** `from` → `to`, on whole path segments only; the result must stay under `to`. */
export function rewritePath(path: string, rewrite: { from: string; to: string }): string {
  const rest = relativeInside(path, rewrite.from);
  if (rest === undefined) throw new UnlocatableError(`${path} is not under source.rewrite.from (${rewrite.from})`);
  return posix.join(rewrite.to, rest);
}

/**
 * ARI's stored-recording name: the path relative to Asterisk's recording directory, without extension
 * (`/var/spool/asterisk/recording/queue/1795.90.wav` → `queue/1795.90`).
 */
export function storedRecordingName(path: string, recordingDir: string): string {
  const rest = relativeInside(path, recordingDir);
  if (rest === undefined || rest === '') {
    throw new UnlocatableError(`${path} is not under Asterisk's recording directory ${recordingDir}: ARI cannot serve it (make MixMonitor write there)`);
  }
  const ext = posix.extname(rest);
  return ext === '' ? rest : rest.slice(0, -ext.length);
}

function checkedAbsolute(path: string): string {
  if (!posix.isAbsolute(path)) throw new UnlocatableError(`recording path ${JSON.stringify(path)} is not absolute`);
  return posix.normalize(path);
}

/** `path` relative to `dir` when it lies inside it, else undefined. Both are normalized first. */
function relativeInside(path: string, dir: string): string | undefined {
  const rel = posix.relative(posix.normalize(dir), posix.normalize(path));
  if (rel.startsWith('..') || posix.isAbsolute(rel)) return undefined;
  return rel;
}

function localFile(path: string): LocatedRecording {
  return {
    where: path,
    async size() {
      try {
        const s = await stat(path);
        return s.isFile() ? s.size : undefined;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new UnreadableError(`cannot stat ${path}: ${(err as Error).message}`);
      }
    },
    async localPath() {
      try {
        await access(path, constants.R_OK);
      } catch (err) {
        throw new UnreadableError(`cannot read ${path}: ${(err as Error).message} (is the daemon's user in the asterisk group?)`);
      }
      return path;
    },
    async removeOriginal() {
      await rm(path, { force: true });
    },
  };
}
