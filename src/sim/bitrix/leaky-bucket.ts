/**
 * Per-portal leaky bucket (docs/reference/bitrix24-rest.md#leaky-bucket): every HTTP request adds 1, the
 * level drains at `perSecond`; a request that would push the level above `burst` is refused
 * and does not add to the level. Time comes from the injectable clock.
 */
export interface RateLimit {
  perSecond: number;
  burst: number;
}

export class LeakyBucket {
  private level = 0;
  private last: number;

  constructor(
    private readonly limit: RateLimit | false,
    private readonly clock: () => number,
  ) {
    this.last = clock();
  }

  /** True when the request may proceed (and has been counted). */
  tryTake(): boolean {
    if (this.limit === false) return true;
    this.drain();
    if (this.level + 1 > this.limit.burst) return false;
    this.level += 1;
    return true;
  }

  /** Current fill level, for tests and diagnostics. */
  get fill(): number {
    this.drain();
    return this.level;
  }

  reset(): void {
    this.level = 0;
    this.last = this.clock();
  }

  private drain(): void {
    if (this.limit === false) return;
    const now = this.clock();
    const elapsed = Math.max(0, now - this.last);
    // Guard Infinity * 0 = NaN when draining is unlimited.
    const drained = elapsed > 0 ? (elapsed / 1000) * this.limit.perSecond : 0;
    this.level = Math.max(0, this.level - drained);
    this.last = now;
  }
}
