import * as nodeFs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { RingBackState } from './types.js';

/**
 * The ring-back state on disk: `<state.dir>/ringback.json`, replaced atomically (write a temp file, fsync,
 * rename over, fsync the directory) so a crash leaves either the old or the new file, never half of one.
 * A read-only or full disk is a clear error the service logs; it never throws out of the daemon.
 */

export type StoreErrorCode = 'READ_ONLY' | 'NO_ACCESS' | 'DISK_FULL' | 'CORRUPT' | 'IO';

export class RingBackStoreError extends Error {
  override readonly name = 'RingBackStoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    readonly file: string,
  ) {
    super(message);
  }
}

export interface RingBackStore {
  readonly file: string;
  /** undefined when there is no file yet; throws RingBackStoreError (a corrupt file is first moved aside). */
  load(): RingBackState | undefined;
  /** Synchronous on purpose: the change is on disk before its AMI action is sent. Throws RingBackStoreError. */
  save(state: RingBackState): void;
}

/** The fs calls used, so tests can make the disk read-only or full (tests run as root, where chmod does not). */
export type StoreFs = Pick<
  typeof nodeFs,
  'readFileSync' | 'openSync' | 'writeSync' | 'fsyncSync' | 'closeSync' | 'renameSync' | 'mkdirSync' | 'rmSync'
>;

const changeSchema = z.object({
  queue: z.string(),
  iface: z.string(),
  memberName: z.string(),
  policy: z.enum(['pause', 'penalty']),
  phase: z.enum(['applying', 'active', 'undoing']),
  acked: z.boolean(),
  changedAt: z.number(),
  until: z.number(),
  cooldownMs: z.number(),
  level: z.number().int().min(0),
  reason: z.string().optional(),
  raisedTo: z.number().int().optional(),
  restoreTo: z.number().int().optional(),
  undoCause: z.string().optional(),
});

const strikeSchema = z.object({
  queue: z.string(),
  iface: z.string(),
  level: z.number().int().min(0),
  lastAt: z.number(),
  raisedTo: z.number().int().optional(),
  restoreTo: z.number().int().optional(),
});

const stateSchema = z.object({ version: z.literal(1), changes: z.array(changeSchema), strikes: z.array(strikeSchema) });

export class FileRingBackStore implements RingBackStore {
  readonly file: string;
  private readonly fs: StoreFs;
  private readonly clock: () => number;

  constructor(opts: { dir: string; fileName?: string; fs?: StoreFs; clock?: () => number }) {
    this.file = path.join(opts.dir, opts.fileName ?? 'ringback.json');
    this.fs = opts.fs ?? nodeFs;
    this.clock = opts.clock ?? Date.now;
  }

  load(): RingBackState | undefined {
    let text: string;
    try {
      text = this.fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw this.error(err, 'read');
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const result = stateSchema.safeParse(parsed);
    if (result.success) return result.data as RingBackState;
    // Keep the evidence, start empty: pauses with our reason are found again by the reconcile.
    const aside = `${this.file}.corrupt-${this.clock()}`;
    try {
      this.fs.renameSync(this.file, aside);
    } catch {
      // could not move it: the next save replaces it anyway
    }
    throw new RingBackStoreError('CORRUPT', `ring-back state ${this.file} is not valid; moved to ${aside}, starting empty`, this.file);
  }

  save(state: RingBackState): void {
    const tmp = `${this.file}.tmp-${process.pid}`;
    let fd: number | undefined;
    try {
      this.fs.mkdirSync(path.dirname(this.file), { recursive: true });
      fd = this.fs.openSync(tmp, 'w', 0o600);
      this.fs.writeSync(fd, `${JSON.stringify(state)}\n`);
      this.fs.fsyncSync(fd);
      this.fs.closeSync(fd);
      fd = undefined;
      this.fs.renameSync(tmp, this.file);
    } catch (err) {
      if (fd !== undefined) this.quietly(() => this.fs.closeSync(fd as number));
      this.quietly(() => this.fs.rmSync(tmp, { force: true }));
      throw this.error(err, 'write');
    }
    this.syncDir();
  }

  /** Makes the rename itself durable. Some file systems refuse fsync on a directory: not worth an error. */
  private syncDir(): void {
    this.quietly(() => {
      const dirFd = this.fs.openSync(path.dirname(this.file), 'r');
      try {
        this.fs.fsyncSync(dirFd);
      } finally {
        this.fs.closeSync(dirFd);
      }
    });
  }

  private error(err: unknown, op: 'read' | 'write'): RingBackStoreError {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const what = `cannot ${op} ring-back state ${this.file}`;
    if (code === 'EROFS') return new RingBackStoreError('READ_ONLY', `${what}: the file system is read-only (EROFS)`, this.file);
    if (code === 'EACCES' || code === 'EPERM') {
      return new RingBackStoreError('NO_ACCESS', `${what}: permission denied (${code}); check state.dir and the service user`, this.file);
    }
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      return new RingBackStoreError('DISK_FULL', `${what}: no space left on the device (${code})`, this.file);
    }
    return new RingBackStoreError('IO', `${what}: ${(err as Error).message}`, this.file);
  }

  private quietly(fn: () => void): void {
    try {
      fn();
    } catch {
      // best effort
    }
  }
}

/** In memory, for tests and `demo`. */
export class MemoryRingBackStore implements RingBackStore {
  readonly file = '(memory)';
  saves = 0;
  constructor(private state?: RingBackState) {}

  load(): RingBackState | undefined {
    return this.state && structuredClone(this.state);
  }

  save(state: RingBackState): void {
    this.saves++;
    this.state = structuredClone(state);
  }
}
