import { DEFAULT_SAFETY, LeakyBucket, type BucketLevel } from '../bitrix/limiter.js';
import { kvGet, type StateDb } from './db.js';

/**
 * The rate limiter survives a restart. The portal's bucket does not empty when the daemon dies: a kill -9 under load
 * followed by a fresh, empty local bucket sends a full burst into a full portal bucket, and the portal answers 503.
 * So the level is saved with its time, in the state database, and a new run starts from it, drained by the time
 * that passed.
 *
 * Saved when it changes, in the transaction of the event-loop turn (SqliteOutboxStore.putKvThisTurn): with the
 * outbox's own writes when the turn has some, computed once at the turn's end however many requests the turn
 * counted. The outbox commits its commands just before a request leaves and the request is counted right after, so
 * a turn that sends writes one more small row then; in exchange the saved level includes every request that left.
 *
 * With no saved level (the first start of this version on a state dir, or a dir whose level was lost), the worst
 * that can be justified: if an earlier run left anything in the database, it was last active at the newest of
 * those writes (the core's snapshot is written every second while calls are on) and may have filled the bucket up
 * to our capacity then; it has drained since. On a state dir no run ever wrote, no run of ours used the bucket:
 * it starts empty (the first card is not held back), and another integration sharing the portal's bucket is what
 * the limiter's safety slots and its reaction to a 503 are for.
 */

export const LIMITER_KEY = 'bitrix.limiter';

export interface RateConfig {
  perSecond: number;
  burst: number;
  safety?: number;
}

/** The part of SqliteOutboxStore that writes a small value with the current turn's commands (limiter, core snapshot). */
export interface TurnWriter {
  putKvThisTurn(key: string, value: () => unknown, at: number): void;
}

/** A leaky bucket for the portal that starts where the previous run left it and saves its level as it changes. */
export function openLimiter(db: StateDb | undefined, writer: TurnWriter | undefined, rate: RateConfig, clock: () => number): LeakyBucket {
  const initial = db ? startingLevel(db, rate) : undefined;
  // Late-bound: the bucket reports changes from its first request on, after it exists.
  let bucket: LeakyBucket | undefined;
  const save = writer ? () => writer.putKvThisTurn(LIMITER_KEY, () => bucket!.snapshot(), clock()) : undefined;
  bucket = new LeakyBucket({ ...rate, ...(initial ? { initial } : {}), ...(save ? { onChange: save } : {}) }, clock);
  return bucket;
}

/** What the bucket starts from: the saved level, else a full bucket at the database's last write, else empty. */
export function startingLevel(db: StateDb, rate: RateConfig): BucketLevel | undefined {
  const saved = kvGet<Partial<BucketLevel>>(db, LIMITER_KEY);
  if (typeof saved?.level === 'number' && typeof saved.at === 'number') return { level: saved.level, at: saved.at };
  const row = db.prepare('SELECT max(updated_at) AS at FROM kv').get() as { at: number | null } | undefined;
  if (typeof row?.at !== 'number') return undefined;
  return { level: rate.burst - (rate.safety ?? DEFAULT_SAFETY), at: row.at };
}
