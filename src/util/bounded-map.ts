/**
 * A map with a size bound and an expiry per entry, on an injected clock: the one rule for the daemon's caches and
 * claim lists (click-to-call claims, CRM lookups, per-address rate limits). An expired entry is never returned. When
 * a new key would pass the bound, expired entries go first, then the oldest written (a write moves a key to the end).
 *
 * Why not lru-cache: it would be a new runtime dependency for forty lines, it reads its own clock through a timer it
 * caches (ttlResolution), and it evicts the least recently *read* entry whether or not expired ones exist.
 */

export interface BoundedMapOptions<K, V> {
  max: number;
  clock: () => number;
  /** Told about every entry pushed out by the bound (not about expired ones or deletes). */
  onEvict?: (key: K, value: V) => void;
}

interface Slot<V> {
  value: V;
  expiresAt: number;
}

export class BoundedMap<K, V> {
  private readonly slots = new Map<K, Slot<V>>();

  constructor(private readonly opts: BoundedMapOptions<K, V>) {
    if (!(opts.max >= 1)) throw new RangeError('max must be at least 1');
  }

  get size(): number {
    return this.slots.size;
  }

  get(key: K): V | undefined {
    const slot = this.slots.get(key);
    if (slot === undefined) return undefined;
    if (slot.expiresAt <= this.opts.clock()) {
      this.slots.delete(key);
      return undefined;
    }
    return slot.value;
  }

  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  /** Until `expiresAt` (ms on the clock; Infinity: until deleted or pushed out by the bound). */
  set(key: K, value: V, expiresAt = Infinity): void {
    this.slots.delete(key);
    if (this.slots.size >= this.opts.max) this.makeRoom();
    this.slots.set(key, { value, expiresAt });
  }

  delete(key: K): boolean {
    return this.slots.delete(key);
  }

  /** Oldest written first; expired entries are left out. */
  *entries(): IterableIterator<[K, V]> {
    const now = this.opts.clock();
    for (const [key, slot] of this.slots) if (slot.expiresAt > now) yield [key, slot.value];
  }

  private makeRoom(): void {
    const now = this.opts.clock();
    for (const [key, slot] of this.slots) if (slot.expiresAt <= now) this.slots.delete(key);
    for (const [key, slot] of this.slots) {
      if (this.slots.size < this.opts.max) break;
      this.slots.delete(key);
      this.opts.onEvict?.(key, slot.value);
    }
  }
}
