import { BoundedMap } from '../util/bounded-map.js';

/**
 * Keys seen within a time window: a double click, a browser retry or Bitrix24 repeating an event must not ring the
 * agent twice. A key may also be held while its call is live (Bitrix24 answers the same CALL_ID for an unfinished
 * call for 30 minutes), then kept for the window after the call ended. Memory is bounded: expired keys go first,
 * then the oldest.
 */
export type ClaimState = 'free' | 'held' | 'recent';

export class RecentKeys {
  /** A held key never expires by itself; a recent one at the end of its window. */
  private readonly seen: BoundedMap<string, 'held' | 'recent'>;

  constructor(
    private readonly windowMs: number,
    private readonly clock: () => number,
    max = 10_000,
  ) {
    this.seen = new BoundedMap({ max, clock });
  }

  /**
   * True when the key is new (and now remembered); false when it is held or was claimed within the window.
   * `hold`: the claim lasts until settle() (or release()), not just the window.
   */
  claim(key: string, hold = false): boolean {
    if (this.state(key) !== 'free') return false;
    if (hold) this.seen.set(key, 'held');
    else if (this.windowMs > 0) this.seen.set(key, 'recent', this.clock() + this.windowMs);
    return true;
  }

  /** 'held': its call is live; 'recent': claimed within the window; 'free': a claim would succeed. */
  state(key: string): ClaimState {
    return this.seen.get(key) ?? 'free';
  }

  /** A held key's call ended: the window starts now. No-op for keys not held. */
  settle(key: string): void {
    if (this.seen.get(key) !== 'held') return;
    if (this.windowMs > 0) this.seen.set(key, 'recent', this.clock() + this.windowMs);
    else this.seen.delete(key);
  }

  /** Forget a claim whose attempt changed nothing (e.g. the portal was down), so a retry may go through. */
  release(key: string): void {
    this.seen.delete(key);
  }

  get size(): number {
    return this.seen.size;
  }
}
