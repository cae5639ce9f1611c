/**
 * Client-side copy of the portal's leaky bucket (docs/reference/bitrix24-rest.md#leaky-bucket): every HTTP
 * request (a batch counts once) adds 1, the counter drains `perSecond` per second, and the portal answers 503
 * QUERY_LIMIT_EXCEEDED once it passes `burst`. Mirroring it locally means we wait instead of being
 * refused. `safety` slots stay free because other integrations on the same portal/IP share the bucket.
 *
 * Pure: no timers, time comes from the injected clock, so it is tested with a fake one.
 */

export interface LeakyBucketOptions {
  /** Drain rate, requests per second (portal default 2; Enterprise 5). */
  perSecond: number;
  /** Bucket size (portal default 50; Enterprise 250). */
  burst: number;
  /** Slots kept free for others sharing the bucket; default 2. */
  safety?: number;
  /** The level at a moment (what a previous run saved): the bucket starts there, drained since. */
  initial?: BucketLevel;
  /** After every counted request and every penalty: the level changed (the daemon saves it, limiter-state.ts). */
  onChange?: () => void;
}

/** The bucket's level at a moment (ms). */
export interface BucketLevel {
  level: number;
  at: number;
}

export type Clock = () => number;

export const DEFAULT_SAFETY = 2;

export class LeakyBucket {
  private readonly perMs: number;
  private readonly burst: number;
  private readonly capacity: number;
  private readonly clock: Clock;
  // Level just after the last counted request, and when that request is (or was) sent.
  // `lastAt` may lie in the future: reservations are handed out in order ahead of time.
  private levelAt = 0;
  private lastAt: number | undefined;
  private readonly onChange: (() => void) | undefined;

  constructor(opts: LeakyBucketOptions, clock: Clock = Date.now) {
    const safety = opts.safety ?? DEFAULT_SAFETY;
    if (!(opts.perSecond > 0)) throw new RangeError('perSecond must be > 0');
    if (!Number.isInteger(safety) || safety < 0) throw new RangeError('safety must be a non-negative integer');
    if (!(opts.burst - safety >= 1)) throw new RangeError('burst must leave at least one slot after safety');
    this.perMs = opts.perSecond / 1000;
    this.burst = opts.burst;
    this.capacity = opts.burst - safety;
    this.clock = clock;
    this.onChange = opts.onChange;
    if (opts.initial && Number.isFinite(opts.initial.level) && Number.isFinite(opts.initial.at) && opts.initial.level > 0) {
      this.levelAt = Math.min(opts.initial.level, this.burst);
      // A clock that went back since must not put the level in the future (it would hold requests back).
      this.lastAt = Math.min(opts.initial.at, clock());
    }
  }

  /**
   * Claim the next slot: returns how many ms to wait before sending, and counts the request at that
   * send time right away, so concurrent callers get consecutive slots rather than the same one.
   */
  reserve(): number {
    const now = this.clock();
    const from = Math.max(now, this.lastAt ?? now);
    // Earliest moment the level has drained enough for one more request.
    const drained = this.lastAt === undefined ? from : this.lastAt + (this.levelAt + 1 - this.capacity) / this.perMs;
    // Round up to whole ms (timers can't do better), minus float noise so 500.0000001 stays 500.
    const wait = Math.max(0, Math.ceil(Math.max(from, drained) - now - 1e-6));
    const sendAt = now + wait;
    this.levelAt = this.level(sendAt) + 1;
    this.lastAt = sendAt;
    this.onChange?.();
    return wait;
  }

  /** How long until one more request fits, without claiming the slot (the outbox waits, gathering more work). */
  waitMs(now: number = this.clock()): number {
    const excess = this.level(now) + 1 - this.capacity;
    return excess <= 0 ? 0 : Math.ceil(excess / this.perMs);
  }

  /** Bucket level at `now`; pending reservations (send time still ahead) are already included. */
  level(now: number = this.clock()): number {
    if (this.lastAt === undefined) return 0;
    if (now <= this.lastAt) return this.levelAt;
    return Math.max(0, this.levelAt - (now - this.lastAt) * this.perMs);
  }

  /**
   * The portal refused us (503 QUERY_LIMIT_EXCEEDED), so someone else is using the bucket too:
   * assume it is full now, which makes the next request wait for (safety + 1) drained slots.
   */
  penalize(): void {
    const now = this.clock();
    const at = Math.max(now, this.lastAt ?? now);
    this.levelAt = Math.max(this.level(at), this.burst);
    this.lastAt = at;
    this.onChange?.();
  }

  /** The level now, reservations ahead included: what a restart must start from. */
  snapshot(now: number = this.clock()): BucketLevel {
    return { level: this.level(now), at: now };
  }
}

/** Wait for a slot of `bucket`; resolves with the ms waited (for metrics). */
export async function acquire(bucket: LeakyBucket, sleep: (ms: number) => Promise<void>): Promise<number> {
  const wait = bucket.reserve();
  if (wait > 0) await sleep(wait);
  return wait;
}
