/**
 * One Bitrix24 command waiting to be delivered. Plain JSON so a durable store can keep it as it is.
 * `key` orders commands: all commands of one key (a call's Linkedid) go out in order, never two batches at once.
 */
export type EntryKind = 'register' | 'show' | 'hide' | 'finish' | 'attach' | 'transcript' | 'call';

/** Commands accepted once per call, ever: a second one is a duplicate whatever happened upstream (restarts, replays). */
export type OnceKind = 'register' | 'finish' | 'transcript';

export interface OutboxEntry {
  seq: number;
  key: string;
  kind: EntryKind;
  method: string;
  /** Parameters without CALL_ID: it is added at send time from the key's CALL_ID (or a batch reference). */
  params: Record<string, unknown>;
  needsCallId: boolean;
  attempts: number;
  /** Not sent before this time (ms): retry backoff. */
  notBefore: number;
  createdAt: number;
  lastError?: string;
  /** An earlier attempt may have reached the portal (timeout, reset): never merged away or assumed unsent. */
  uncertain?: boolean;
  /**
   * The extension USER_ID stands in for: it mapped to no Bitrix24 user when the command was made (USER_ID is then
   * bitrix.defaultUserId). Looked up again at every send until an attempt may have reached the portal (user-resolve.ts).
   */
  userExt?: string;
}

export interface ParkedEntry extends OutboxEntry {
  parkedAt: number;
  error: string;
  /** Parked because this call's register (this seq) is parked: it comes back with it. */
  dependsOn?: number;
}

/** The outbox's memory. In-memory here; a durable implementation keeps the same contract. */
export interface OutboxStore {
  load(): { entries: OutboxEntry[]; callIds: Array<[string, string]>; parked: ParkedEntry[] };
  put(entry: OutboxEntry): void;
  delete(seq: number): void;
  park(entry: ParkedEntry): void;
  unpark(seq: number): ParkedEntry | undefined;
  setCallId(key: string, callId: string): void;
  deleteCallId(key: string): void;
  /** Idempotency marks: a key's register, finish and transcript are each accepted once, ever (pruned after a day). */
  mark(key: string, kind: OnceKind, at: number): void;
  isMarked(key: string, kind: OnceKind): boolean;
  /** Makes what was written so far durable now (before a request leaves); a store without transactions omits it. */
  commit?(): void;
  /** Replaces the durable copy with what the outbox holds in memory (after writes failed for a while). */
  replaceAll?(state: { entries: OutboxEntry[]; callIds: Array<[string, string]>; parked: ParkedEntry[] }): void;
}

export class MemoryOutboxStore implements OutboxStore {
  private readonly entries = new Map<number, OutboxEntry>();
  private readonly callIds = new Map<string, string>();
  private readonly parked = new Map<number, ParkedEntry>();
  private readonly marks = new Set<string>();

  load() {
    return { entries: [...this.entries.values()], callIds: [...this.callIds.entries()], parked: [...this.parked.values()] };
  }
  put(entry: OutboxEntry): void {
    this.entries.set(entry.seq, { ...entry });
  }
  delete(seq: number): void {
    this.entries.delete(seq);
  }
  park(entry: ParkedEntry): void {
    this.entries.delete(entry.seq);
    this.parked.set(entry.seq, { ...entry });
  }
  unpark(seq: number): ParkedEntry | undefined {
    const p = this.parked.get(seq);
    this.parked.delete(seq);
    return p;
  }
  setCallId(key: string, callId: string): void {
    this.callIds.set(key, callId);
  }
  deleteCallId(key: string): void {
    this.callIds.delete(key);
  }
  mark(key: string, kind: OnceKind): void {
    this.marks.add(`${kind}:${key}`);
  }
  isMarked(key: string, kind: OnceKind): boolean {
    return this.marks.has(`${kind}:${key}`);
  }
}
