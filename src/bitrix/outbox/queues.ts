import type { OutboxEntry, OutboxStore, ParkedEntry } from '../outbox-entry.js';
import type { ParkedCommands } from './parked.js';
import type { OutboxHooks, OutboxLogger } from './types.js';

/**
 * The outbox's memory: one queue of commands per call (key), with the call's CALL_ID once known, kept in step with
 * the store. Every way a command leaves its queue is here (delivered, parked, removed), so the store, the hooks and
 * the forgetting of finished calls stay in one place.
 */

export interface KeyQueue {
  entries: OutboxEntry[];
  /** A batch or an upload of this call is on the wire: nothing else of it leaves meanwhile. */
  inFlight: boolean;
  callId?: string;
  finished: boolean;
}

/** Why a command waiting for its call's CALL_ID is parked: its register is (`parked` lists it with this). */
export const dependentError = (registerSeq: number, error: string) => `register failed (seq ${registerSeq}), parked with it: ${error}`;

export interface CallQueuesDeps {
  store: OutboxStore;
  parked: ParkedCommands;
  clock: () => number;
  logger: OutboxLogger;
  hooks: OutboxHooks;
}

export class CallQueues {
  private readonly byKey = new Map<string, KeyQueue>();
  /** Seqs of the commands on the wire right now: never merged into or dropped. */
  readonly sending = new Set<number>();

  constructor(private readonly deps: CallQueuesDeps) {}

  /** What a previous run left (no store writes); returns the highest seq seen. */
  restore(saved: ReturnType<OutboxStore['load']>): number {
    let seq = 0;
    for (const [key, callId] of saved.callIds) this.queue(key).callId = callId;
    for (const entry of [...saved.entries].sort((a, b) => a.seq - b.seq)) {
      this.queue(entry.key).entries.push(entry);
      seq = Math.max(seq, entry.seq);
    }
    return seq;
  }

  get size(): number {
    return this.byKey.size;
  }

  get depth(): number {
    let n = 0;
    for (const q of this.byKey.values()) n += q.entries.length;
    return n;
  }

  oldestCreatedAt(): number | undefined {
    let oldest: number | undefined;
    for (const q of this.byKey.values()) for (const e of q.entries) if (oldest === undefined || e.createdAt < oldest) oldest = e.createdAt;
    return oldest;
  }

  values(): IterableIterator<KeyQueue> {
    return this.byKey.values();
  }

  get(key: string): KeyQueue | undefined {
    return this.byKey.get(key);
  }

  queue(key: string): KeyQueue {
    let q = this.byKey.get(key);
    if (!q) this.byKey.set(key, (q = { entries: [], inFlight: false, finished: false }));
    return q;
  }

  /** May still change (merged, dropped, rewritten): not on the wire and never possibly delivered. */
  isMovable(e: OutboxEntry): boolean {
    return !e.uncertain && !this.sending.has(e.seq);
  }

  /** A CALL_ID is known, or a register is waiting (or parked) to get one. */
  canGetCallId(key: string): boolean {
    const q = this.byKey.get(key);
    if (q?.callId !== undefined || this.deps.parked.registerOf(key)) return true;
    return q?.entries.some((e) => e.kind === 'register') ?? false;
  }

  append(entry: OutboxEntry): void {
    this.queue(entry.key).entries.push(entry);
    this.deps.store.put(entry);
  }

  /** Back in its original place (seq order): a retried register still goes before the finish parked behind it. */
  putBack(entry: OutboxEntry): void {
    const q = this.queue(entry.key);
    const at = q.entries.findIndex((e) => e.seq > entry.seq);
    q.entries.splice(at < 0 ? q.entries.length : at, 0, entry);
    this.deps.store.put(entry);
  }

  setCallId(key: string, callId: string): void {
    this.queue(key).callId = callId;
    this.deps.store.setCallId(key, callId);
  }

  remove(q: KeyQueue, entry: OutboxEntry): void {
    const i = q.entries.indexOf(entry);
    if (i >= 0) q.entries.splice(i, 1);
    this.deps.store.delete(entry.seq);
  }

  delivered(entry: OutboxEntry, result: unknown): void {
    const q = this.queue(entry.key);
    this.remove(q, entry);
    if (entry.kind === 'register') {
      const callId = (result as { CALL_ID?: unknown } | undefined)?.CALL_ID;
      if (typeof callId === 'string') {
        q.callId = callId;
        this.deps.store.setCallId(entry.key, callId);
      }
    }
    if (entry.kind === 'finish') q.finished = true;
    this.deps.hooks.onDelivered?.(entry, result);
    this.forgetIfDone(entry.key, q);
  }

  park(entry: OutboxEntry, error: string, dependsOn?: number): void {
    const q = this.queue(entry.key);
    this.remove(q, entry);
    const parked: ParkedEntry = { ...entry, parkedAt: this.deps.clock(), error, ...(dependsOn === undefined ? {} : { dependsOn }) };
    this.deps.parked.add(parked);
    this.deps.logger.error({ key: entry.key, seq: entry.seq, method: entry.method, params: entry.params, error }, 'outbox: command parked');
    this.deps.hooks.onParked?.(parked);
    if (entry.kind === 'register' && q.callId === undefined) {
      // Everything after it that needs its CALL_ID would wait forever: parked with it, retried with it.
      for (const e of q.entries.filter((x) => x.needsCallId)) this.park(e, dependentError(entry.seq, error), entry.seq);
    }
    this.forgetIfDone(entry.key, q);
  }

  /** A finished call with nothing left to send is forgotten, CALL_ID included. */
  forgetIfDone(key: string, q: KeyQueue): void {
    if (q.entries.length > 0 || q.inFlight || this.byKey.get(key) !== q) return;
    if (q.finished || q.callId === undefined) {
      this.byKey.delete(key);
      if (q.callId !== undefined) this.deps.store.deleteCallId(key);
    }
  }

  /** Everything held in memory, a batch on the wire marked uncertain (as send() wrote it): for a store rewrite. */
  snapshot(): { entries: OutboxEntry[]; callIds: Array<[string, string]> } {
    const entries: OutboxEntry[] = [];
    const callIds: Array<[string, string]> = [];
    for (const [key, q] of this.byKey) {
      for (const e of q.entries) entries.push(this.sending.has(e.seq) ? { ...e, uncertain: true } : e);
      if (q.callId !== undefined) callIds.push([key, q.callId]);
    }
    return { entries, callIds };
  }
}
