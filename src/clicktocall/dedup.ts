/**
 * Keys seen within a time window: a double click, a browser retry or Bitrix24 repeating an event must not ring the
 * agent twice. Memory is bounded: expired keys go first, then the oldest.
 */
export class RecentKeys {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly clock: () => number,
    private readonly max = 10_000,
  ) {}

  /** True when the key is new (and now remembered); false when it was claimed within the window. */
  claim(key: string): boolean {
    const now = this.clock();
    const until = this.seen.get(key);
    if (until !== undefined && until > now) return false;
    this.seen.delete(key); // re-inserted at the end: Map order stays oldest-first
    this.prune(now);
    if (this.windowMs > 0) this.seen.set(key, now + this.windowMs);
    return true;
  }

  /** Forget a claim whose attempt changed nothing (e.g. the portal was down), so a retry may go through. */
  release(key: string): void {
    this.seen.delete(key);
  }

  get size(): number {
    return this.seen.size;
  }

  private prune(now: number): void {
    if (this.seen.size < this.max) return;
    for (const [key, until] of this.seen) if (until <= now) this.seen.delete(key);
    for (const key of this.seen.keys()) {
      if (this.seen.size < this.max) break;
      this.seen.delete(key);
    }
  }
}
