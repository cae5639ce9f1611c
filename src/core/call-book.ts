import type { Call } from './call.js';
import { RecentIds } from './recent-ids.js';

/** The calls in progress by Linkedid, and the Linkedids that ended (so late events cannot start them again). */

export class CallBook {
  private readonly live = new Map<string, Call>();
  private readonly ended: RecentIds;

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

  add(call: Call): void {
    this.live.set(call.linkedid, call);
  }

  /** The call is over: late events for its Linkedid are ignored from now on. */
  end(linkedid: string): void {
    this.drop(linkedid);
    this.ended.add(linkedid);
  }

  /** Forgets a call Bitrix24 never heard of: if its Linkedid comes back, it is tracked again from scratch. */
  drop(linkedid: string): void {
    this.live.delete(linkedid);
  }

  /** The latest ended Linkedids, oldest first (a snapshot keeps `limit` of them). */
  endedIds(limit: number): string[] {
    return this.ended.latest(limit);
  }

  /** After a restart: calls in progress (in start order) and the tombstones. */
  restore(calls: Iterable<Call>, ended: Iterable<string>): void {
    for (const call of calls) this.add(call);
    for (const id of ended) this.ended.add(id);
  }
}
