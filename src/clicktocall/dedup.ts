/**
 * Keys seen within a time window: a double click, a browser retry or Bitrix24 repeating an event must not ring the
 * agent twice. A key may also be held while its call is live (Bitrix24 answers the same CALL_ID for an unfinished
 * call for 30 minutes), then kept for the window after the call ended. Memory is bounded: expired keys go first,
 * then the oldest.
 */
export type ClaimState = 'free' | 'held' | 'recent';

export class RecentKeys {
  /** Key -> claimed until (ms); Infinity while held. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly clock: () => number,
    private readonly max = 10_000,
  ) {}

  /**
   * True when the key is new (and now remembered); false when it is held or was claimed within the window.
   * `hold`: the claim lasts until settle() (or release()), not just the window.
   */
  claim(key: string, hold = false): boolean {
    const now = this.clock();
    if (this.state(key, now) !== 'free') return false;
    this.seen.delete(key); // re-inserted at the end: Map order stays oldest-first
    this.prune(now);
    if (hold) this.seen.set(key, Infinity);
    else if (this.windowMs > 0) this.seen.set(key, now + this.windowMs);
    return true;
  }

  /** 'held': its call is live; 'recent': claimed within the window; 'free': a claim would succeed. */
  state(key: string, now = this.clock()): ClaimState {
    const until = this.seen.get(key);
    if (until === undefined || until <= now) return 'free';
    return until === Infinity ? 'held' : 'recent';
  }

  /** A held key's call ended: the window starts now. No-op for keys not held. */
  settle(key: string): void {
    if (this.seen.get(key) !== Infinity) return;
    this.seen.delete(key);
    if (this.windowMs > 0) this.seen.set(key, this.clock() + this.windowMs);
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
