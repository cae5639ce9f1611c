import type { BitrixClient, BatchCommand } from './client.js';
import type { BitrixError } from './errors.js';
import { planBatch } from './batch-plan.js';
import { mayHaveExecuted, retryDelay, toBitrixError } from './retry-policy.js';
import { absorbCardChange } from './coalesce.js';
import { ParkedCommands } from './parked.js';
import type { EntryKind, OutboxEntry, OutboxStore, ParkedEntry } from './outbox-entry.js';

/**
 * Delivers Bitrix24 commands: ordered per key (a call), batched across calls, paced by the shared rate limiter,
 * retried with backoff on retryable failures, parked on contract errors. Retries have exactly one owner: here.
 */

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

export interface OutboxOptions {
  client: BitrixClient;
  store: OutboxStore;
  clock: () => number;
  timers?: { setTimeout: typeof setTimeout; clearTimeout: typeof clearTimeout };
  /** ms until the limiter lets the next request go (0 = now). */
  limiterDelay: () => number;
  logger: OutboxLogger;
  hooks?: OutboxHooks;
  attach?: AttachHandler;
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
}

interface KeyQueue {
  entries: OutboxEntry[];
  inFlight: boolean;
  callId?: string;
  finished: boolean;
}

const FINISH_GONE = /Call is not found/i;

/** Why a command waiting for its call's CALL_ID is parked: its register is (`parked` lists it with this). */
const dependentError = (registerSeq: number, error: string) => `register failed (seq ${registerSeq}), parked with it: ${error}`;

export class Outbox {
  private readonly queues = new Map<string, KeyQueue>();
  private readonly parked: ParkedCommands;
  private seq = 0;
  private inFlight = 0;
  private attaching = 0;
  /** Seqs of the commands on the wire right now: never merged into or dropped. */
  private readonly sending = new Set<number>();
  private pausedUntil = 0;
  /** When the next batch started waiting for the rate limiter (reported once it leaves). */
  private limiterWaitSince: number | undefined;
  private wakeAt = Infinity;
  private wakeTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];
  private readonly timers: { setTimeout: typeof setTimeout; clearTimeout: typeof clearTimeout };

  constructor(private readonly opts: OutboxOptions) {
    this.timers = opts.timers ?? { setTimeout, clearTimeout };
    this.parked = new ParkedCommands(opts.store, opts.logger, opts.maxParked ?? 10_000, (kind) => opts.hooks?.onDropped?.(kind));
    const saved = opts.store.load();
    for (const [key, callId] of saved.callIds) this.queue(key).callId = callId;
    for (const entry of saved.entries.sort((a, b) => a.seq - b.seq)) {
      this.queue(entry.key).entries.push(entry);
      this.seq = Math.max(this.seq, entry.seq);
    }
    this.parked.restore(saved.parked);
    for (const p of saved.parked) this.seq = Math.max(this.seq, p.seq);
    // What a previous run left waiting goes out as soon as the portal lets it.
    if (saved.entries.length > 0) this.schedule();
  }

  /** Calls (keys) the outbox still holds: waiting commands or a CALL_ID for a call not finished yet. */
  get trackedKeys(): number {
    return this.queues.size;
  }

  /** Commands waiting (not parked). */
  get depth(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.entries.length;
    return n;
  }

  oldestCreatedAt(): number | undefined {
    let oldest: number | undefined;
    for (const q of this.queues.values()) for (const e of q.entries) if (oldest === undefined || e.createdAt < oldest) oldest = e.createdAt;
    return oldest;
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
    const entries: OutboxEntry[] = [];
    const callIds: Array<[string, string]> = [];
    for (const [key, q] of this.queues) {
      // What is on the wire now may land: on disk it is uncertain, as send() wrote it.
      for (const e of q.entries) entries.push(this.sending.has(e.seq) ? { ...e, uncertain: true } : e);
      if (q.callId !== undefined) callIds.push([key, q.callId]);
    }
    this.opts.store.replaceAll?.({ entries, callIds, parked: this.parked.entries() });
  }

  callIdOf(key: string): string | undefined {
    return this.queues.get(key)?.callId;
  }

  /** Bitrix24 registered this call itself (click-to-call): commands need no register. */
  bindCallId(key: string, callId: string): void {
    this.queue(key).callId = callId;
    this.opts.store.setCallId(key, callId);
  }

  enqueue(key: string, kind: EntryKind, method: string, params: Record<string, unknown>, needsCallId = true): boolean {
    const store = this.opts.store;
    if ((kind === 'show' || kind === 'hide' || kind === 'attach') && needsCallId && !this.canGetCallId(key) && store.isMarked(key, 'finish')) {
      // A finished call whose CALL_ID is forgotten (or never came): nothing will ever give it one, and queued
      // it would wait forever and hold up every drain.
      this.opts.logger.warn({ key, kind, method }, 'outbox: command dropped: its call is finished and has no CALL_ID');
      return false;
    }
    if (kind === 'register' || kind === 'finish') {
      // A call is registered once and finished once, whatever replays or resyncs happen upstream.
      if (store.isMarked(key, kind)) {
        this.opts.logger.debug({ key, kind }, 'outbox: duplicate dropped');
        this.opts.hooks?.onDuplicate?.(kind);
        return false;
      }
    }
    if (!this.hasRoom(kind)) return false;
    if (kind === 'register' || kind === 'finish') store.mark(key, kind, this.opts.clock());
    const q = this.queue(key);
    if (kind === 'finish') this.dropPendingShow(q, params['USER_ID']);
    if (kind === 'show' || kind === 'hide') {
      const movable = (e: OutboxEntry) => !e.uncertain && !this.sending.has(e.seq);
      const { rest, emptied, changed } = absorbCardChange(q.entries, kind, params['USER_ID'] as number[], movable);
      for (const e of emptied) this.remove(q, e);
      for (const e of changed) this.opts.store.put(e);
      if (rest.length === 0) {
        this.schedule();
        return true;
      }
      params = { ...params, USER_ID: rest };
    }
    const now = this.opts.clock();
    const entry: OutboxEntry = { seq: ++this.seq, key, kind, method, params, needsCallId, attempts: 0, notBefore: 0, createdAt: now };
    q.entries.push(entry);
    this.opts.store.put(entry);
    const register = this.parked.registerOf(key);
    // Its register is parked: it could only wait forever for the CALL_ID, so it is parked with it.
    if (register && needsCallId && q.callId === undefined) this.park(entry, dependentError(register.seq, register.error), register.seq);
    else this.schedule();
    return true;
  }

  /** A CALL_ID is known, or a register is waiting (or parked) to get one. */
  private canGetCallId(key: string): boolean {
    const q = this.queues.get(key);
    if (q?.callId !== undefined || this.parked.registerOf(key)) return true;
    return q?.entries.some((e) => e.kind === 'register') ?? false;
  }

  /**
   * The outbox never grows without limit. Past 80 % of the bound new cards are dropped (a card for a call
   * that waited that long is useless); at the bound every new command is refused, loudly.
   */
  private hasRoom(kind: EntryKind): boolean {
    const max = this.opts.maxEntries ?? 100_000;
    const depth = this.depth;
    const cards = kind === 'show' || kind === 'hide';
    if (depth < (cards ? max * 0.8 : max)) return true;
    this.opts.logger.error({ depth, max, kind }, 'outbox is full: command dropped (is the portal down for long?)');
    this.opts.hooks?.onDropped?.(kind);
    return false;
  }

  /** The finishing user's card closes with the finish: a show still waiting for them is pointless. */
  private dropPendingShow(q: KeyQueue, userId: unknown): void {
    for (const e of [...q.entries]) {
      // What is on the wire, or may have landed before, may already be shown.
      if (e.kind !== 'show' || e.uncertain || this.sending.has(e.seq)) continue;
      const users = (e.params['USER_ID'] as number[]).filter((u) => u !== userId);
      if (users.length === 0) this.remove(q, e);
      else if (users.length !== (e.params['USER_ID'] as number[]).length) {
        e.params['USER_ID'] = users;
        this.opts.store.put(e);
      }
    }
  }

  /** Puts a parked command back in its queue; a parked register comes back with the commands parked behind it. */
  retryParked(seq: number): boolean {
    const group = this.parked.take(seq);
    for (const p of group) {
      const { parkedAt: _a, error: _e, dependsOn: _d, ...entry } = p;
      const fresh: OutboxEntry = { ...entry, attempts: 0, notBefore: 0 };
      const q = this.queue(fresh.key);
      // Back in its original place: a retried register still goes before the finish parked behind it.
      const at = q.entries.findIndex((e) => e.seq > fresh.seq);
      q.entries.splice(at < 0 ? q.entries.length : at, 0, fresh);
      this.opts.store.put(fresh);
    }
    if (group.length > 0) this.schedule();
    return group.length > 0;
  }

  /** Resolves when nothing is waiting or in flight (or after timeoutMs). */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.isIdle()) return true;
    return new Promise<boolean>((resolve) => {
      const timer = this.timers.setTimeout(() => resolve(this.isIdle()), timeoutMs);
      this.idleWaiters.push(() => {
        this.timers.clearTimeout(timer);
        resolve(true);
      });
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.wakeTimer) this.timers.clearTimeout(this.wakeTimer);
  }

  private isIdle(): boolean {
    return this.inFlight === 0 && this.attaching === 0 && this.depth === 0;
  }

  private queue(key: string): KeyQueue {
    let q = this.queues.get(key);
    if (!q) this.queues.set(key, (q = { entries: [], inFlight: false, finished: false }));
    return q;
  }

  private schedule(): void {
    this.wake(this.opts.clock() + (this.opts.lingerMs ?? 5));
  }

  private wake(at: number): void {
    if (this.stopped || at >= this.wakeAt) return;
    if (this.wakeTimer) this.timers.clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = this.timers.setTimeout(() => {
      this.wakeAt = Infinity;
      this.wakeTimer = undefined;
      // One more turn for I/O already waiting: after a stall, the other ringall members' events are read
      // (and merged into this batch) before it leaves.
      setImmediate(() => this.pump());
    }, Math.max(0, at - this.opts.clock()));
  }

  private pump(): void {
    if (this.stopped) return;
    const concurrency = this.opts.concurrency ?? 2;
    this.startAttachments(this.opts.clock());
    while (this.inFlight < concurrency) {
      const now = this.opts.clock();
      if (now < this.pausedUntil) return this.wake(this.pausedUntil);
      const { commands, entries, earliest } = planBatch(this.queues.values(), now, this.opts.maxBatch ?? 50);
      if (commands.length === 0) {
        if (earliest !== undefined) this.wake(earliest);
        break;
      }
      const delay = this.opts.limiterDelay();
      if (delay > 0) {
        this.limiterWaitSince ??= now;
        return this.wake(now + delay);
      }
      if (this.limiterWaitSince !== undefined) {
        this.opts.hooks?.onLimiterWait?.(now - this.limiterWaitSince);
        this.limiterWaitSince = undefined;
      }
      this.send(commands, entries);
    }
    if (this.isIdle()) this.idleWaiters.splice(0).forEach((w) => w());
  }

  private send(commands: BatchCommand[], planned: Array<{ entry: OutboxEntry; cmdKey: string }>): void {
    const keys = new Set(planned.map((p) => p.entry.key));
    for (const k of keys) this.queue(k).inFlight = true;
    for (const p of planned) this.sending.add(p.entry.seq);
    // On disk as uncertain before it leaves: after a kill -9 it may have landed (a finish the portal then calls
    // unknown was delivered). The real flag is written back when the answer comes.
    for (const p of planned) this.opts.store.put({ ...p.entry, uncertain: true });
    this.opts.store.commit?.();
    this.inFlight++;
    this.opts.hooks?.onBatch?.(commands.length);
    this.opts.client
      .batch(commands)
      .then(
        (outcome) => this.settle(planned, (cmdKey) => ({ result: outcome.results[cmdKey], error: outcome.errors[cmdKey] })),
        (err: unknown) => this.failAll(planned, toBitrixError(err)),
      )
      .catch((err: unknown) => this.opts.logger.error({ err }, 'outbox: settling a batch failed'))
      .finally(() => {
        for (const k of keys) {
          const q = this.queues.get(k);
          if (!q) continue;
          q.inFlight = false;
          // Only now may a finished call be forgotten: while in flight it was kept on purpose.
          this.forgetIfDone(k, q);
        }
        for (const p of planned) this.sending.delete(p.entry.seq);
        this.inFlight--;
        this.pump();
      });
  }

  private settle(planned: Array<{ entry: OutboxEntry; cmdKey: string }>, outcomeOf: (cmdKey: string) => { result: unknown; error?: BitrixError }): void {
    let registerFailure: BitrixError | undefined;
    for (const { entry, cmdKey } of planned) {
      const q = this.queue(entry.key);
      // Already parked with its register.
      if (!q.entries.includes(entry)) continue;
      if (registerFailure && entry.needsCallId && q.callId === undefined) {
        // Its CALL_ID reference resolved to nothing: the command itself is fine, it waits for the register.
        this.opts.store.put(entry);
        continue;
      }
      const { result, error } = outcomeOf(cmdKey);
      if (!error) {
        this.delivered(entry, result);
        continue;
      }
      if (entry.kind === 'register') registerFailure = error;
      if (entry.kind === 'finish' && entry.uncertain && FINISH_GONE.test(error.description)) {
        // An earlier attempt whose answer was lost did finish the call.
        this.delivered(entry, undefined);
      } else if (error.kind === 'retryable') this.retryLater(entry, error);
      else this.park(entry, `${error.errorCode}: ${error.description}`);
    }
  }

  private failAll(planned: Array<{ entry: OutboxEntry }>, error: BitrixError): void {
    if (error.kind === 'fatal') return this.parkAll(planned, error);
    // The whole request failed (portal down, rate limited, resets): nothing is parked, everything waits and retries.
    this.opts.logger.warn({ code: error.errorCode, status: error.httpStatus, commands: planned.length }, `outbox: batch failed: ${error.description}`);
    let delay = 0;
    for (const { entry } of planned) {
      entry.attempts++;
      entry.uncertain ||= mayHaveExecuted(error);
      entry.lastError = `${error.errorCode}: ${error.description}`;
      delay = Math.max(delay, this.backoff(entry.attempts));
      this.opts.store.put(entry);
      this.opts.hooks?.onRetry?.(entry, error);
    }
    this.pausedUntil = Math.max(this.pausedUntil, this.opts.clock() + delay);
  }

  /**
   * The portal refused the whole request (401/403/404, a redirect): the webhook is wrong, and retrying cannot fix
   * it. Each command is parked (logged with its method and params; the error never holds the URL) for an admin to
   * retry once the webhook is fixed.
   */
  private parkAll(planned: Array<{ entry: OutboxEntry }>, error: BitrixError): void {
    const status = error.httpStatus === undefined ? '' : ` HTTP ${error.httpStatus}`;
    const why = `webhook refused the request (${error.errorCode}${status}${error.code ? ` ${error.code}` : ''}): ${error.description}; fix bitrix.webhookUrl, then run: parked --retry-all`;
    this.opts.logger.error({ code: error.errorCode, status: error.httpStatus, commands: planned.length }, `outbox: ${why}`);
    for (const { entry } of planned) {
      const q = this.queue(entry.key);
      // A register parked earlier in this loop took its dependents with it.
      if (!q.entries.includes(entry)) continue;
      entry.attempts++;
      this.park(entry, why);
    }
  }

  private delivered(entry: OutboxEntry, result: unknown): void {
    const q = this.queue(entry.key);
    this.remove(q, entry);
    if (entry.kind === 'register') {
      const callId = (result as { CALL_ID?: unknown } | undefined)?.CALL_ID;
      if (typeof callId === 'string') {
        q.callId = callId;
        this.opts.store.setCallId(entry.key, callId);
      }
    }
    if (entry.kind === 'finish') q.finished = true;
    this.opts.hooks?.onDelivered?.(entry, result);
    this.forgetIfDone(entry.key, q);
  }

  private retryLater(entry: OutboxEntry, error: BitrixError): void {
    entry.attempts++;
    // A sub-command's own error means it ran and failed; an attachment's network error may have landed.
    if (entry.kind === 'attach') entry.uncertain ||= mayHaveExecuted(error);
    entry.lastError = `${error.errorCode}: ${error.description}`;
    entry.notBefore = this.opts.clock() + this.backoff(entry.attempts);
    this.opts.store.put(entry);
    this.opts.hooks?.onRetry?.(entry, error);
  }

  private park(entry: OutboxEntry, error: string, dependsOn?: number): void {
    const q = this.queue(entry.key);
    this.remove(q, entry);
    const parked: ParkedEntry = { ...entry, parkedAt: this.opts.clock(), error, ...(dependsOn === undefined ? {} : { dependsOn }) };
    this.parked.add(parked);
    this.opts.logger.error({ key: entry.key, seq: entry.seq, method: entry.method, params: entry.params, error }, 'outbox: command parked');
    this.opts.hooks?.onParked?.(parked);
    if (entry.kind === 'register' && q.callId === undefined) {
      // Everything after it that needs its CALL_ID would wait forever: parked with it, retried with it.
      for (const e of q.entries.filter((x) => x.needsCallId)) this.park(e, dependentError(entry.seq, error), entry.seq);
    }
    this.forgetIfDone(entry.key, q);
  }

  private startAttachments(now: number): void {
    const max = this.opts.attachConcurrency ?? 2;
    for (const q of this.queues.values()) {
      if (this.attaching >= max) return;
      const head = q.entries[0];
      if (q.inFlight || head?.kind !== 'attach' || head.notBefore > now) continue;
      if (!this.opts.attach || q.callId === undefined) {
        this.park(head, this.opts.attach ? 'no CALL_ID for this call' : 'recordings are not enabled');
        continue;
      }
      q.inFlight = true;
      this.attaching++;
      this.opts
        .attach(head, q.callId)
        .then(
          () => this.delivered(head, undefined),
          (err: unknown) => {
            const error = toBitrixError(err);
            if (error.kind === 'retryable') this.retryLater(head, error);
            else this.park(head, `${error.errorCode}: ${error.description}`);
          },
        )
        .finally(() => {
          q.inFlight = false;
          this.forgetIfDone(head.key, q);
          this.attaching--;
          this.pump();
        });
    }
  }

  private remove(q: KeyQueue, entry: OutboxEntry): void {
    const i = q.entries.indexOf(entry);
    if (i >= 0) q.entries.splice(i, 1);
    this.opts.store.delete(entry.seq);
  }

  /** A finished call with nothing left to send is forgotten, CALL_ID included. */
  private forgetIfDone(key: string, q: KeyQueue): void {
    if (q.entries.length > 0 || q.inFlight || this.queues.get(key) !== q) return;
    if (q.finished || q.callId === undefined) {
      this.queues.delete(key);
      if (q.callId !== undefined) this.opts.store.deleteCallId(key);
    }
  }

  private backoff(attempts: number): number {
    return retryDelay(attempts, {
      initialMs: this.opts.initialRetryDelayMs ?? 500,
      maxMs: this.opts.maxRetryDelayMs ?? 30_000,
      random: this.opts.random ?? Math.random,
    });
  }
}
