import type { Call } from './call.js';
import { RecentIds } from './recent-ids.js';

/**
 * The calls in progress by Linkedid, the Linkedids that ended (so late events cannot start them again), and the
 * order in which calls would be evicted when the core tracks as many as it may (see limits.ts): first the idle
 * calls only one input ever mentioned (what a flood of events for channels that never hang up leaves behind), then
 * the other idle calls, both oldest first, then the rest in start order.
 */
export type EvictionRank = 'idle' | 'known';

export class CallBook {
  private readonly live = new Map<string, Call>();
  private readonly ended: RecentIds;
  /** Calls only the input that started them mentioned: they leave when a second input mentions them. */
  private readonly once = new Set<Call>();
  private readonly onceQueue = new EvictionQueue();
  private readonly idleQueue = new EvictionQueue();

  /** `tombstones`: how many ended Linkedids are remembered. */
  constructor(tombstones: number) {
    this.ended = new RecentIds(tombstones);
  }

  get size(): number {
    return this.live.size;
  }

  get(linkedid: string): Call | undefined {
    return this.live.get(linkedid);
  }

  has(linkedid: string): boolean {
    return this.live.has(linkedid);
  }

  values(): IterableIterator<Call> {
    return this.live.values();
  }

  isEnded(linkedid: string): boolean {
    return this.ended.has(linkedid);
  }

  /** A new call, mentioned by one input so far. */
  add(call: Call): void {
    this.live.set(call.linkedid, call);
    this.once.add(call);
    this.onceQueue.push(call, this.live);
  }

  /** Another input mentions the call (once per input). */
  touch(call: Call): void {
    if (this.once.delete(call)) this.idleQueue.push(call, this.live);
  }

  /** The call is over: late events for its Linkedid are ignored from now on. */
  end(linkedid: string): void {
    this.drop(linkedid);
    this.ended.add(linkedid);
  }

  /** Forgets a call Bitrix24 never heard of: if its Linkedid comes back, it is tracked again from scratch. */
  drop(linkedid: string): void {
    const call = this.live.get(linkedid);
    if (call) this.once.delete(call);
    this.live.delete(linkedid);
  }

  /**
   * The call to evict first, never one in `keep` (the calls the current input is about): the oldest idle one
   * mentioned once, else the oldest idle one, else (unless `idleOnly`) the oldest of all. Undefined if none.
   */
  victim(rankOf: (call: Call) => EvictionRank, keep: ReadonlySet<string>, idleOnly: boolean): Call | undefined {
    const usable = (call: Call, queue: 'once' | 'idle') =>
      this.live.get(call.linkedid) === call && (queue === 'idle' || this.once.has(call)) && rankOf(call) === 'idle';
    const found = this.onceQueue.first((c) => usable(c, 'once'), keep) ?? this.idleQueue.first((c) => usable(c, 'idle'), keep);
    if (found !== undefined || idleOnly) return found;
    for (const call of this.live.values()) if (!keep.has(call.linkedid)) return call;
    return undefined;
  }

  /** The latest ended Linkedids, oldest first (a snapshot keeps `limit` of them). */
  endedIds(limit: number): string[] {
    return this.ended.latest(limit);
  }

  /** After a restart: calls in progress (in start order; they have a history) and the tombstones. */
  restore(calls: Iterable<Call>, ended: Iterable<string>): void {
    for (const call of calls) {
      this.live.set(call.linkedid, call);
      this.idleQueue.push(call, this.live);
    }
    for (const id of ended) this.ended.add(id);
  }
}

/**
 * Calls in the order they became candidates, without scanning: an entry that no longer qualifies is dropped when
 * it reaches the head, and the array is compacted when stale entries outnumber live calls (O(1) amortized).
 */
class EvictionQueue {
  private calls: Call[] = [];
  private head = 0;

  push(call: Call, live: ReadonlyMap<string, Call>): void {
    this.calls.push(call);
    if (this.head > 1024 || this.calls.length - this.head > 2 * live.size + 64) {
      this.calls = this.calls.slice(this.head).filter((c) => live.get(c.linkedid) === c);
      this.head = 0;
    }
  }

  /** The oldest entry that still qualifies and is not kept; entries that no longer qualify leave from the head. */
  first(qualifies: (call: Call) => boolean, keep: ReadonlySet<string>): Call | undefined {
    for (let i = this.head; i < this.calls.length; i++) {
      const call = this.calls[i]!;
      // The same Linkedid may come back as a new call after a drop: `qualifies` checks it is this entry's call.
      if (!qualifies(call)) {
        if (i === this.head) this.head++;
      } else if (!keep.has(call.linkedid)) return call;
    }
    return undefined;
  }
}
