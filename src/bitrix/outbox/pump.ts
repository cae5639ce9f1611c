import type { AttachmentLane } from './attachments.js';
import { planBatch } from './batch-plan.js';
import type { CallQueues } from './queues.js';
import { lostRegisterReason, mayResend } from './register-dedup.js';
import type { BatchSender } from './send.js';
import type { OutboxHooks, Timers } from './types.js';
import type { OutboxEntry } from '../outbox-entry.js';
import { awaitsUser } from './user-resolve.js';

/**
 * When the outbox sends: a short linger after new work (neighbours share a request), at most `concurrency` batches
 * at once, nothing while a failed request's backoff runs, nothing before the shared rate limiter has a slot. One
 * timer, set to the earliest moment something can leave.
 */

export interface PumpDeps {
  queues: CallQueues;
  sender: BatchSender;
  attachments: AttachmentLane;
  clock: () => number;
  timers: Timers;
  /** ms until the limiter lets the next request go (0 = now). */
  limiterDelay: () => number;
  hooks: OutboxHooks;
  lingerMs: number;
  concurrency: number;
  maxBatch: number;
  /** How long before Bitrix24 stops recognising a repeated register the outbox stops repeating it. */
  dedupMarginMs: number;
  /** While true, a command whose user is not known yet (userExt) waits for the user map, looked at every second. */
  holdUnresolved?: (() => boolean) | undefined;
}

/** How often a command held for its user looks again. */
const HOLD_RECHECK_MS = 1_000;

export class Pump {
  private pausedUntil = 0;
  /** When the next batch started waiting for the rate limiter (reported once it leaves). */
  private limiterWaitSince: number | undefined;
  private wakeAt = Infinity;
  private wakeTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly deps: PumpDeps) {}

  /** New work: wait the linger, then send. */
  schedule(): void {
    this.wake(this.deps.clock() + this.deps.lingerMs);
  }

  /** Nothing leaves before `until` (a whole request failed; its backoff). */
  pause(until: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, until);
  }

  run(): void {
    if (this.stopped) return;
    const { queues, sender, clock } = this.deps;
    this.deps.attachments.start(clock());
    while (sender.inFlight < this.deps.concurrency) {
      const now = clock();
      if (now < this.pausedUntil) return this.wake(this.pausedUntil);
      const hold = this.deps.holdUnresolved;
      const heldUntil = (e: OutboxEntry) => (hold && awaitsUser(e) && hold() ? now + HOLD_RECHECK_MS : undefined);
      const { commands, entries, earliest, stale } = planBatch(queues.values(), now, this.deps.maxBatch, (e) => mayResend(e, now, this.deps.dedupMarginMs), heldUntil);
      for (const e of stale) queues.park(e, lostRegisterReason(e));
      if (commands.length === 0) {
        if (earliest !== undefined) this.wake(earliest);
        break;
      }
      const delay = this.deps.limiterDelay();
      if (delay > 0) {
        this.limiterWaitSince ??= now;
        return this.wake(now + delay);
      }
      if (this.limiterWaitSince !== undefined) {
        this.deps.hooks.onLimiterWait?.(now - this.limiterWaitSince);
        this.limiterWaitSince = undefined;
      }
      sender.send(commands, entries);
    }
    if (this.isIdle()) this.idleWaiters.splice(0).forEach((w) => w());
  }

  isIdle(): boolean {
    return this.deps.sender.inFlight === 0 && this.deps.attachments.inFlight === 0 && this.deps.queues.depth === 0;
  }

  /** Resolves when nothing is waiting or in flight (or after timeoutMs). */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.isIdle()) return true;
    const { timers } = this.deps;
    return new Promise<boolean>((resolve) => {
      const timer = timers.setTimeout(() => resolve(this.isIdle()), timeoutMs);
      this.idleWaiters.push(() => {
        timers.clearTimeout(timer);
        resolve(true);
      });
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.wakeTimer) this.deps.timers.clearTimeout(this.wakeTimer);
  }

  private wake(at: number): void {
    if (this.stopped || at >= this.wakeAt) return;
    const { timers, clock } = this.deps;
    if (this.wakeTimer) timers.clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = timers.setTimeout(() => {
      this.wakeAt = Infinity;
      this.wakeTimer = undefined;
      // One more turn for I/O already waiting: after a stall, the other ringall members' events are read
      // (and merged into this batch) before it leaves.
      setImmediate(() => this.run());
    }, Math.max(0, at - clock()));
  }
}
