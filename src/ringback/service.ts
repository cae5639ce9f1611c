import { queuePause, queuePenalty, type ActionRequest } from '../ami/actions.js';
import { AmiActionError, type AmiClient } from '../ami/client.js';
import { field, type AmiMessage } from '../ami/types.js';
import type { RingBackConfig } from '../config/ringback.js';
import { needsReconcile, normalizeRingBack } from './normalize.js';
import { QueueStatusReader } from './queue-status.js';
import { RingBackPolicy } from './policy.js';
import { RingBackStoreError, type RingBackStore } from './store.js';
import { report, sendNotice, type Notify, type RingBackLogger, type RingBackMetrics } from './report.js';
import type { ActionOp, ActionOutcome, RingBackChange, RingBackEffect, RingBackInput, RingBackState } from './types.js';

/**
 * The edge of the ring-back fix: AMI events in, policy effects performed (QueuePause/QueuePenalty, timers,
 * the state file, logs, metrics, the optional agent notice), action results fed back.
 * Inputs are stamped with this daemon's clock, not Asterisk's Timestamp: the cooldown timers and the persisted
 * deadlines run on this clock, and the undo must come on time even when the two clocks disagree.
 */

export type { RingBackLogger, RingBackMetrics, RingBackNotice } from './report.js';

export interface RingBackTimers {
  set(fn: () => void, delayMs: number): unknown;
  clear(handle: unknown): void;
}

export interface RingBackServiceDeps {
  ami: AmiClient;
  store: RingBackStore;
  config: RingBackConfig;
  logger: RingBackLogger;
  clock?: () => number;
  timers?: RingBackTimers;
  /** Tell the agent (Bitrix24 im.notify); called only when config.notifyAgent is on. Errors are logged. */
  notify?: Notify;
  metrics?: RingBackMetrics;
  /** A QueueStatus that failed while AMI is up is tried again after this. Default 5000 ms. */
  reconcileRetryMs?: number;
}

/** setTimeout's limit; a longer wait fires early and the policy re-arms it. */
const MAX_DELAY_MS = 2 ** 31 - 1;

const nodeTimers: RingBackTimers = {
  set: (fn, ms) => setTimeout(fn, ms).unref(),
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
};

export class RingBackService {
  private policy: RingBackPolicy | undefined;
  private readonly clock: () => number;
  private readonly timers: RingBackTimers;
  private readonly handles = new Map<string, unknown>();
  private readonly queue: RingBackInput[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private draining = false;
  private stopped = false;
  /** False while the state file cannot be written: no new change is made that could not be accounted for. */
  private saveOk = true;
  private saveError = '';
  private readonly status: QueueStatusReader;

  constructor(private readonly deps: RingBackServiceDeps) {
    this.clock = deps.clock ?? Date.now;
    this.timers = deps.timers ?? nodeTimers;
    this.status = new QueueStatusReader({
      ami: deps.ami,
      clock: this.clock,
      timers: this.timers,
      logger: deps.logger,
      timeoutMs: deps.config.actionTimeoutMs,
      retryMs: deps.reconcileRetryMs ?? 5000,
      onStatus: (s) => this.feed({ kind: 'reconcile', at: this.clock(), ...s }),
    });
  }

  /** Load what an earlier run changed, then (if AMI is up) learn strategies and reconcile. */
  async start(): Promise<void> {
    const { store, logger } = this.deps;
    let state: RingBackState | undefined;
    try {
      state = store.load();
    } catch (err) {
      const e = err as RingBackStoreError;
      logger.error({ file: store.file, code: e.code }, e.message);
    }
    this.policy = new RingBackPolicy(this.deps.config, state);
    logger.info({ file: store.file, changes: state?.changes.length ?? 0, enabled: this.deps.config.enabled }, 'ring-back: started');
    if (this.deps.ami.isConnected) await this.reconcile();
  }

  handleAmiEvent(msg: AmiMessage): void {
    if (this.policy === undefined || this.stopped) return;
    if (needsReconcile(msg)) {
      void this.reconcile();
      return;
    }
    let input: RingBackInput | undefined;
    try {
      input = normalizeRingBack(msg, this.clock(), { time: 'received' });
    } catch (err) {
      this.deps.logger.warn({ err: (err as Error).message, event: field(msg, 'Event') }, 'ring-back: unreadable AMI event skipped');
    }
    if (input !== undefined) this.feed(input);
  }

  /** After every AMI (re)login: what changed while we were away is read again. */
  onAmiReconnected(): Promise<void> {
    return this.reconcile();
  }

  /** Shutdown for good: undo everything we hold, waiting at most `timeoutMs` for Asterisk. Call before AMI closes. */
  async releaseAll(timeoutMs = 2000): Promise<void> {
    if (this.policy === undefined || this.stopped) return;
    this.feed({ kind: 'release', at: this.clock() });
    let timer: unknown;
    const limit = new Promise<void>((resolve) => (timer = this.timers.set(resolve, timeoutMs)));
    await Promise.race([Promise.allSettled([...this.inflight]), limit]);
    this.timers.clear(timer);
  }

  stop(): void {
    this.stopped = true;
    for (const h of this.handles.values()) this.timers.clear(h);
    this.handles.clear();
    this.status.stop();
  }

  /**
   * SIGHUP: the same policy takes the new configuration (cooldown, queues, reason, on/off) and keeps its records,
   * so what it did is still undone on time: armed timers fire into it, answers and shutdown undo as before.
   */
  reconfigure(config: RingBackConfig): void {
    this.deps.config = config;
    this.policy?.reconfigure(config);
    this.deps.logger.info({ enabled: config.enabled, policy: config.policy, cooldownSec: config.cooldownSec }, 'ring-back: configuration reloaded');
  }

  /**
   * The live view's release: undo our change on this member now. Returns how many of our changes stood there to be
   * undone (0: nothing of ours, already on its way back, or not verified since a restart).
   */
  releaseMember(queue: string, iface: string): number {
    if (this.policy === undefined || this.stopped) return 0;
    const before = this.changes().filter((c) => c.queue === queue && c.iface === iface && c.phase !== 'undoing').length;
    if (before === 0) return 0;
    this.feed({ kind: 'releaseMember', at: this.clock(), queue, iface });
    const after = this.changes().filter((c) => c.queue === queue && c.iface === iface && c.phase !== 'undoing').length;
    return before - after;
  }

  /** The changes we hold now (copies): what the live view lists. */
  changes(): RingBackChange[] {
    return this.policy?.snapshot().changes ?? [];
  }

  /** Members currently paused or demoted by us (the `ringback_members_set_aside` gauge). */
  setAsideCount(): number {
    return this.policy?.snapshot().changes.length ?? 0;
  }

  /** Read every queue and hold our records against it (single flight). A no-op before start(). */
  reconcile(): Promise<void> {
    if (this.policy === undefined || this.stopped) return Promise.resolve();
    return this.status.reconcile();
  }

  /** Inputs are handled one at a time, in order; results that come back while effects run wait their turn. */
  private feed(input: RingBackInput): void {
    this.queue.push(input);
    if (this.draining) return;
    this.draining = true;
    try {
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
        if (this.stopped || this.policy === undefined) continue;
        let effects: RingBackEffect[];
        try {
          effects = this.policy.handle(next);
        } catch (err) {
          // A bug in the policy costs one input, never the daemon.
          this.deps.logger.error({ err: (err as Error).message, kind: next.kind }, 'ring-back: policy failed on an input; skipped');
          continue;
        }
        for (const e of effects) this.perform(e);
      }
    } finally {
      this.draining = false;
    }
  }

  private perform(e: RingBackEffect): void {
    switch (e.type) {
      case 'persist':
        return this.persist();
      case 'pause':
        if (!this.saveOk) return this.refuse('pause', e.queue, e.iface);
        return this.send('pause', e.queue, e.iface, queuePause({ queue: e.queue, interface: e.iface, paused: true, reason: e.reason }));
      case 'unpause':
        return this.send('unpause', e.queue, e.iface, queuePause({ queue: e.queue, interface: e.iface, paused: false }));
      case 'handBack':
        return this.send('handBack', e.queue, e.iface, queuePause({ queue: e.queue, interface: e.iface, paused: true, reason: e.reason }));
      case 'setPenalty': {
        const op = e.purpose === 'raise' ? 'raisePenalty' : 'restorePenalty';
        if (op === 'raisePenalty' && !this.saveOk) return this.refuse(op, e.queue, e.iface);
        return this.send(op, e.queue, e.iface, queuePenalty({ queue: e.queue, interface: e.iface, penalty: e.penalty }));
      }
      case 'scheduleTimer':
        return this.schedule(e.id, e.at);
      case 'cancelTimer':
        return this.cancel(e.id);
      case 'queryQueue':
        return void this.queryQueue(e.queue);
      case 'notify':
        return sendNotice(e, this.deps.notify, this.deps.logger);
      case 'log':
        return report(e, this.deps);
    }
  }

  private persist(): void {
    const { store, logger } = this.deps;
    try {
      store.save(this.policy!.snapshot());
      if (!this.saveOk) logger.info({ file: store.file }, 'ring-back: state saved again; acting on missed rings again');
      this.saveOk = true;
      this.saveError = '';
    } catch (err) {
      const e = err instanceof RingBackStoreError ? err : new RingBackStoreError('IO', String(err), store.file);
      // Once per distinct problem: a full disk must not flood the log on every missed ring.
      if (this.saveOk || this.saveError !== e.message) {
        logger.error({ file: store.file, code: e.code }, `${e.message}; no member is paused or demoted until it can be saved`);
      }
      this.saveOk = false;
      this.saveError = e.message;
    }
  }

  /** A change we could not record is a change we do not make (undos always go out). */
  private refuse(op: ActionOp, queue: string, iface: string): void {
    this.feed({ kind: 'actionResult', at: this.clock(), op, queue, iface, outcome: 'refused', message: `not sent: ${this.saveError}` });
  }

  private send(op: ActionOp, queue: string, iface: string, req: ActionRequest): void {
    let sent: Promise<unknown>;
    try {
      sent = this.deps.ami.action(req.action, req.headers, { timeoutMs: this.deps.config.actionTimeoutMs });
    } catch (err) {
      sent = Promise.reject(err); // an AmiClient that throws instead of rejecting must not break the event path
    }
    const done = sent
      .then(
        () => ({ outcome: 'ok' as ActionOutcome, message: undefined }),
        (err: unknown) => classify(err),
      )
      .then(({ outcome, message }) => {
        this.feed({ kind: 'actionResult', at: this.clock(), op, queue, iface, outcome, ...(message === undefined ? {} : { message }) });
      });
    this.inflight.add(done);
    void done.finally(() => this.inflight.delete(done));
  }

  private schedule(id: string, at: number): void {
    if (this.stopped) return;
    this.cancel(id);
    const delay = Math.min(Math.max(0, at - this.clock()), MAX_DELAY_MS);
    const handle = this.timers.set(() => {
      this.handles.delete(id);
      this.feed({ kind: 'timer', at: this.clock(), id });
    }, delay);
    this.handles.set(id, handle);
  }

  private cancel(id: string): void {
    const h = this.handles.get(id);
    if (h === undefined) return;
    this.timers.clear(h);
    this.handles.delete(id);
  }

  /** A queue we do not know the strategy of (realtime, or added since start). */
  private async queryQueue(queue: string): Promise<void> {
    try {
      const { queues, members } = await this.status.queue(queue);
      // Members first: the deferred miss is decided when the strategy arrives, and a penalty needs the current one.
      for (const member of members) this.feed({ kind: 'memberAdded', at: this.clock(), member });
      for (const q of queues) this.feed({ kind: 'queueParams', at: this.clock(), ...q });
    } catch (err) {
      this.deps.logger.warn({ queue, err: (err as Error).message }, 'ring-back: could not read the strategy of a queue');
    }
  }
}

function classify(err: unknown): { outcome: ActionOutcome; message: string } {
  const message = (err as Error)?.message ?? String(err);
  if (!(err instanceof AmiActionError)) return { outcome: 'timeout', message };
  switch (err.code) {
    case 'ACTION_FAILED':
    case 'UNSAFE_HEADER':
      // Asterisk's own words ("Interface not found") say more than ours.
      return { outcome: 'failed', message: field(err.response ?? {}, 'Message') ?? message };
    case 'TIMEOUT':
      return { outcome: 'timeout', message };
    default:
      return { outcome: 'disconnected', message };
  }
}
