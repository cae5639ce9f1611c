import type { BitrixClient } from './client.js';
import type { EntryKind, OutboxEntry, OutboxStore, ParkedEntry } from './outbox-entry.js';
import { AdmissionRules } from './outbox/admission.js';
import { AttachmentLane } from './outbox/attachments.js';
import { ParkedCommands } from './outbox/parked.js';
import { Pump } from './outbox/pump.js';
import { CallQueues, dependentError } from './outbox/queues.js';
import { DEFAULT_DEDUP_MARGIN_MS, isLostRegisterReason } from './outbox/register-dedup.js';
import { BatchSender } from './outbox/send.js';
import { Settler, WEBHOOK_REFUSAL, type RefusalAdvice } from './outbox/settle.js';
import type { AttachHandler, OutboxHooks, OutboxLogger, Timers, TranscriptHandler } from './outbox/types.js';
import { backoffDelay } from '../util/backoff.js';

export type { AttachHandler, OutboxHooks, OutboxLogger, TranscriptHandler } from './outbox/types.js';

/**
 * Delivers Bitrix24 commands: ordered per key (a call), batched across calls, paced by the shared rate limiter,
 * retried with backoff on retryable failures, parked on contract errors. Retries have one owner: here (the client
 * only sends a request once more after renewing an expired token).
 * This class is the front: what comes in (enqueue, bindCallId, retryParked) and what the daemon asks; the parts
 * under ./outbox/ each do one job (admission, queues, pump, send, settle, attachments, parked).
 */

export interface OutboxOptions {
  client: BitrixClient;
  store: OutboxStore;
  clock: () => number;
  timers?: Timers;
  /** ms until the limiter lets the next request go (0 = now). */
  limiterDelay: () => number;
  logger: OutboxLogger;
  hooks?: OutboxHooks;
  attach?: AttachHandler;
  /** Sends a transcript (issue 18); unset: transcripts are not enabled. */
  transcript?: TranscriptHandler;
  concurrency?: number;
  /** Wait this long after a command arrives so neighbours (ringall: every member at once) share one request. */
  lingerMs?: number;
  maxBatch?: number;
  /** Attachments in progress at once; they never take a batch slot (a recording may wait a minute for its file). */
  attachConcurrency?: number;
  /** Bound on waiting commands. */
  maxEntries?: number;
  /** Bound on parked commands: past it the oldest are dropped. */
  maxParked?: number;
  initialRetryDelayMs?: number;
  maxRetryDelayMs?: number;
  random?: () => number;
  /**
   * A register whose answer was lost is sent again only until this long before Bitrix24 stops recognising the repeat
   * (30 minutes after CALL_START_DATE); later it is parked for an admin. Default 5 minutes.
   */
  dedupMarginMs?: number;
  /**
   * Extension -> Bitrix24 user as known now: a command enqueued with `userExt` (its extension mapped to no user
   * then) gets the user's id as USER_ID when it maps by the time the command is sent (never after an attempt that
   * may have landed: outbox/user-resolve.ts).
   */
  resolveUser?: (ext: string) => number | undefined;
  /**
   * While true (the user map has not loaded yet, and is expected to), such a command waits instead of leaving with
   * the default user: the portal coming back must not race the map that names the agent.
   */
  holdUnresolved?: () => boolean;
  /** The reason parked commands give when the portal refuses a whole request; the webhook's words by default. */
  refusal?: RefusalAdvice;
}

export interface EnqueueOptions {
  /** The extension USER_ID stands in for (it mapped to no user when the command was made): see resolveUser. */
  userExt?: string | undefined;
}

export class Outbox {
  private readonly queues: CallQueues;
  private readonly parked: ParkedCommands;
  private readonly admission: AdmissionRules;
  private readonly pump: Pump;
  private seq = 0;

  constructor(private readonly opts: OutboxOptions) {
    const hooks = opts.hooks ?? {};
    const { store, clock, logger } = opts;
    this.parked = new ParkedCommands(store, logger, opts.maxParked ?? 10_000, (kind) => hooks.onDropped?.(kind));
    this.queues = new CallQueues({ store, parked: this.parked, clock, logger, hooks });
    this.admission = new AdmissionRules({ queues: this.queues, store, clock, logger, hooks, maxEntries: opts.maxEntries ?? 100_000 });
    // ±20 % jitter: calls that failed together do not all retry in the same instant.
    const backoff = (attempts: number) =>
      backoffDelay(attempts, { initialMs: opts.initialRetryDelayMs ?? 500, maxMs: opts.maxRetryDelayMs ?? 30_000, jitter: 0.2, random: opts.random ?? Math.random });
    const settler = new Settler({ queues: this.queues, store, clock, logger, hooks, backoff, refusal: opts.refusal ?? WEBHOOK_REFUSAL });
    const next = () => this.pump.run();
    const sender = new BatchSender({
      client: opts.client,
      queues: this.queues,
      store,
      settler,
      logger,
      hooks,
      pause: (until) => this.pump.pause(until),
      next,
      resolveUser: opts.resolveUser,
    });
    const attachments = new AttachmentLane({ queues: this.queues, settler, attach: opts.attach, transcript: opts.transcript, max: opts.attachConcurrency ?? 2, next });
    this.pump = new Pump({
      queues: this.queues,
      sender,
      attachments,
      clock,
      timers: opts.timers ?? { setTimeout, clearTimeout },
      limiterDelay: opts.limiterDelay,
      hooks,
      lingerMs: opts.lingerMs ?? 5,
      concurrency: opts.concurrency ?? 2,
      maxBatch: opts.maxBatch ?? 50,
      dedupMarginMs: opts.dedupMarginMs ?? DEFAULT_DEDUP_MARGIN_MS,
      holdUnresolved: opts.holdUnresolved,
    });

    const saved = store.load();
    this.seq = this.queues.restore(saved);
    this.parked.restore(saved.parked);
    for (const p of saved.parked) this.seq = Math.max(this.seq, p.seq);
    // What a previous run left waiting goes out as soon as the portal lets it.
    if (saved.entries.length > 0) this.pump.schedule();
  }

  /** Calls (keys) the outbox still holds: waiting commands or a CALL_ID for a call not finished yet. */
  get trackedKeys(): number {
    return this.queues.size;
  }

  /** Commands waiting (not parked). */
  get depth(): number {
    return this.queues.depth;
  }

  /**
   * Whether enqueue would find room for a command of this kind now: a producer that can keep its work for later
   * (transcripts) asks first, so a refusal from enqueue means a duplicate, never a full outbox.
   */
  hasRoomFor(kind: EntryKind): boolean {
    return this.admission.fits(kind);
  }

  oldestCreatedAt(): number | undefined {
    return this.queues.oldestCreatedAt();
  }

  /** Commands of one kind waiting (not parked), e.g. 'attach': the recordings still to be attached. */
  waiting(kind: EntryKind): number {
    let n = 0;
    for (const q of this.queues.values()) for (const e of q.entries) if (e.kind === kind) n++;
    return n;
  }

  parkedEntries(): ParkedEntry[] {
    return this.parked.entries();
  }

  /**
   * Writes everything the outbox holds in memory over the store's copy. After the store failed for a while (disk
   * full, read-only), its copy lacks what came meanwhile and still holds what was delivered meanwhile: a restart
   * would send those again (a register of a call already finished makes a second call in Bitrix24).
   */
  persistAll(): void {
    this.opts.store.replaceAll?.({ ...this.queues.snapshot(), parked: this.parked.entries() });
  }

  callIdOf(key: string): string | undefined {
    return this.queues.get(key)?.callId;
  }

  /** Bitrix24 registered this call itself (click-to-call): commands need no register. */
  bindCallId(key: string, callId: string): void {
    this.queues.setCallId(key, callId);
  }

  enqueue(key: string, kind: EntryKind, method: string, params: Record<string, unknown>, needsCallId = true, options: EnqueueOptions = {}): boolean {
    const admitted = this.admission.admit(key, kind, method, params, needsCallId);
    if (admitted.kind === 'refused') return false;
    if (admitted.kind === 'absorbed') {
      this.pump.schedule();
      return true;
    }
    const entry: OutboxEntry = {
      seq: ++this.seq,
      key,
      kind,
      method,
      params: admitted.params,
      needsCallId,
      attempts: 0,
      notBefore: 0,
      createdAt: this.opts.clock(),
      ...(options.userExt !== undefined ? { userExt: options.userExt } : {}),
    };
    this.queues.append(entry);
    const register = this.parked.registerOf(key);
    // Its register is parked: it could only wait forever for the CALL_ID, so it is parked with it.
    if (register && needsCallId && this.queues.queue(key).callId === undefined) this.queues.park(entry, dependentError(register.seq, register.error), register.seq);
    else this.pump.schedule();
    return true;
  }

  /** Puts a parked command back in its queue; a parked register comes back with the commands parked behind it. */
  retryParked(seq: number): boolean {
    const group = this.parked.take(seq);
    for (const p of group) {
      const { parkedAt: _a, error, dependsOn: _d, ...entry } = p;
      // A register parked because its answer was lost past Bitrix24's repeat window: the admin's retry is their word
      // that no call was made, so it is sent as a first attempt. (Any other uncertain command stays uncertain.)
      const confirmed = entry.kind === 'register' && isLostRegisterReason(error);
      this.queues.putBack({ ...entry, attempts: 0, notBefore: 0, ...(confirmed ? { uncertain: false } : {}) });
    }
    if (group.length > 0) this.pump.schedule();
    return group.length > 0;
  }

  /** Resolves when nothing is waiting or in flight (or after timeoutMs). */
  drain(timeoutMs: number): Promise<boolean> {
    return this.pump.drain(timeoutMs);
  }

  stop(): void {
    this.pump.stop();
  }
}
