import type { Effect } from './effects.js';
import { RecentIds } from './recent-ids.js';

/**
 * Extension -> Bitrix24 user, as the core last received it (the `userMap` input). Part of the core's state and
 * snapshot: the core never asks a directory mid-event, so a replay and a restart name the users the live run named.
 */

/** Unmapped extensions reported at most once each; a hostile AMI inventing extensions cannot grow the set. */
const REPORTED_LIMIT = 4096;

export class UserMapError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserMapError';
  }
}

export class UserMap {
  private byExt = new Map<string, number>();
  private readonly reported = new RecentIds(REPORTED_LIMIT);

  constructor(extensions: Readonly<Record<string, number>> = {}) {
    this.replace(extensions);
  }

  get size(): number {
    return this.byExt.size;
  }

  /**
   * The whole new map. Checked before anything changes: a bad map is refused whole. Extensions still unmapped are
   * reported again, once each, so a log and the counter say what the new map misses instead of going silent.
   */
  replace(extensions: Readonly<Record<string, number>>): void {
    const next = new Map<string, number>();
    for (const [ext, id] of Object.entries(extensions)) {
      if (ext === '') throw new UserMapError('user map: an empty extension');
      if (!Number.isSafeInteger(id) || id <= 0) throw new UserMapError(`user map: extension ${ext} maps to ${String(id)}, not a Bitrix24 user id`);
      next.set(ext, id);
    }
    this.byExt = next;
    this.reported.clear();
  }

  /** The user of `ext`; an extension with none is reported once (an `unmappedExtension` effect). */
  userIdFor(ext: string, out: Effect[]): number | undefined {
    const id = this.byExt.get(ext);
    if (id === undefined && !this.reported.has(ext)) {
      this.reported.add(ext);
      out.push({ type: 'unmappedExtension', ext });
    }
    return id;
  }

  /** Whether `ext` has a user, without reporting it if not (a question about a leg, not a use of its user). */
  has(ext: string): boolean {
    return this.byExt.has(ext);
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries(this.byExt);
  }
}
