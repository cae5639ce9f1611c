/**
 * Per-address token buckets: each address may make `perMinute` requests in a burst, refilled evenly over a minute.
 * Pure apart from the injected clock. Memory is bounded: idle (full) buckets are dropped first, then the oldest.
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
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;

  constructor(private readonly opts: RateLimitOptions) {
    this.perMs = opts.perMinute / 60_000;
  }

  take(address: string): RateDecision {
    const now = this.opts.clock();
    let b = this.buckets.get(address);
    if (b) {
      b.tokens = Math.min(this.opts.perMinute, b.tokens + (now - b.at) * this.perMs);
      b.at = now;
    } else {
      this.prune(now);
      b = { tokens: this.opts.perMinute, at: now };
      this.buckets.set(address, b);
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSec: Math.max(1, Math.ceil((1 - b.tokens) / this.perMs / 1000)) };
  }

  get tracked(): number {
    return this.buckets.size;
  }

  private prune(now: number): void {
    const max = this.opts.maxTracked ?? 10_000;
    if (this.buckets.size < max) return;
    for (const [addr, b] of this.buckets) {
      if (b.tokens + (now - b.at) * this.perMs >= this.opts.perMinute) this.buckets.delete(addr);
    }
    // Still full of busy addresses (a flood from many peers): forget the oldest; they start with a full bucket.
    for (const addr of this.buckets.keys()) {
      if (this.buckets.size < max) break;
      this.buckets.delete(addr);
    }
  }
}
