import { BoundedMap } from '../util/bounded-map.js';

/**
 * Per-address token buckets: each address may make `perMinute` requests in a burst, refilled evenly over a minute.
 * Pure apart from the injected clock. Memory is bounded: a bucket is forgotten once it is full again (it would
 * start full anyway), and past maxTracked addresses the oldest go first: they start with a full bucket.
 */

export interface RateLimitOptions {
  perMinute: number;
  clock: () => number;
  /** Addresses remembered at once; default 10 000. */
  maxTracked?: number;
}

export type RateDecision = { ok: true } | { ok: false; retryAfterSec: number };

interface Bucket {
  tokens: number;
  at: number;
}

export class AddressRateLimiter {
  private readonly buckets: BoundedMap<string, Bucket>;
  private readonly perMs: number;

  constructor(private readonly opts: RateLimitOptions) {
    this.perMs = opts.perMinute / 60_000;
    this.buckets = new BoundedMap({ max: opts.maxTracked ?? 10_000, clock: opts.clock });
  }

  take(address: string): RateDecision {
    const now = this.opts.clock();
    const b = this.buckets.get(address) ?? { tokens: this.opts.perMinute, at: now };
    b.tokens = Math.min(this.opts.perMinute, b.tokens + (now - b.at) * this.perMs);
    b.at = now;
    const ok = b.tokens >= 1;
    if (ok) b.tokens -= 1;
    // Kept until it has refilled: then it is the same as a bucket never seen.
    this.buckets.set(address, b, now + (this.opts.perMinute - b.tokens) / this.perMs);
    if (ok) return { ok: true };
    return { ok: false, retryAfterSec: Math.max(1, Math.ceil((1 - b.tokens) / this.perMs / 1000)) };
  }

  get tracked(): number {
    return this.buckets.size;
  }
}
