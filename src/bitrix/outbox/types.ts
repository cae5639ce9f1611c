import type { BitrixError } from '../errors.js';
import type { EntryKind, OutboxEntry, ParkedEntry } from '../outbox-entry.js';

/** What the outbox's parts share: its logger, its hooks, the attachment handler, timers. */

export interface OutboxLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface OutboxHooks {
  onBatch?(size: number): void;
  onDelivered?(entry: OutboxEntry, result: unknown): void;
  onParked?(entry: ParkedEntry): void;
  onRetry?(entry: OutboxEntry, error: BitrixError): void;
  onDuplicate?(kind: EntryKind): void;
  onDropped?(kind: EntryKind): void;
  /** A batch waited this long for the rate limiter before it left (the client then finds the slot free). */
  onLimiterWait?(waitedMs: number): void;
}

/** Attachments go outside batches (uploads cannot be batched); this performs one, given the call's CALL_ID. */
export type AttachHandler = (entry: OutboxEntry, callId: string) => Promise<void>;

/** Sends one transcript (its params carry the CALL_ID: the call may be forgotten by then); outside batches, see attachments.ts. */
export type TranscriptHandler = (entry: OutboxEntry) => Promise<void>;

export interface Timers {
  setTimeout: typeof setTimeout;
  clearTimeout: typeof clearTimeout;
}
