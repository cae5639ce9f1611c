import { queueStatus } from '../ami/actions.js';
import { AmiActionError, type AmiClient } from '../ami/client.js';
import { readQueueStatus } from './normalize.js';
import type { RingBackLogger } from './report.js';
import type { MemberSnapshot, QueueInfo } from './types.js';

/**
 * Reading queue state for the ring-back fix: a full QueueStatus to reconcile (one at a time; a request while
 * one runs makes it run once more after, so a burst of reconnect/FullyBooted/Reload costs two at most),
 * and a one-queue QueueStatus to learn a strategy.
 */

export interface QueueStatusTimers {
  set(fn: () => void, delayMs: number): unknown;
  clear(handle: unknown): void;
}

export interface FullStatus {
  /** When it was asked for: events handled after this are newer than the answer. */
  requestedAt: number;
  queues: QueueInfo[];
  members: MemberSnapshot[];
}

export interface QueueStatusReaderDeps {
  ami: AmiClient;
  clock: () => number;
  timers: QueueStatusTimers;
  logger: RingBackLogger;
  timeoutMs: number;
  /** A QueueStatus that failed while AMI is up is tried again after this. */
  retryMs: number;
  onStatus(status: FullStatus): void;
}

export class QueueStatusReader {
  private running: Promise<void> | undefined;
  private again = false;
  private retryHandle: unknown;
  private stopped = false;

  constructor(private readonly deps: QueueStatusReaderDeps) {}

  reconcile(): Promise<void> {
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    const run = async (): Promise<void> => {
      do {
        this.again = false;
        await this.once();
      } while (this.again && !this.stopped);
    };
    this.running = run().finally(() => (this.running = undefined));
    return this.running;
  }

  /** One queue (realtime, or added since the last full read): its strategy and members. */
  async queue(queue: string): Promise<{ queues: QueueInfo[]; members: MemberSnapshot[] }> {
    const req = queueStatus({ queue });
    const res = await this.deps.ami.action(req.action, req.headers, { timeoutMs: this.deps.timeoutMs });
    return readQueueStatus(res.events);
  }

  stop(): void {
    this.stopped = true;
    if (this.retryHandle !== undefined) this.deps.timers.clear(this.retryHandle);
  }

  private async once(): Promise<void> {
    const { ami, logger, clock } = this.deps;
    if (this.stopped || !ami.isConnected) return; // the next login brings us back
    const requestedAt = clock();
    try {
      const req = queueStatus();
      // A large call center's list takes a while; the status is not urgent, a pause is.
      const res = await ami.action(req.action, req.headers, { timeoutMs: Math.max(10_000, this.deps.timeoutMs) });
      const { queues, members } = readQueueStatus(res.events);
      this.deps.onStatus({ requestedAt, queues, members });
      logger.info({ queues: queues.length, members: members.length }, 'ring-back: queue state reconciled');
    } catch (err) {
      const code = err instanceof AmiActionError ? err.code : 'ERROR';
      logger.warn({ code, err: (err as Error).message }, 'ring-back: QueueStatus failed; reconciling again later');
      if (code !== 'DISCONNECTED' && !this.stopped) {
        this.retryHandle = this.deps.timers.set(() => void this.reconcile(), this.deps.retryMs);
      }
    }
  }
}
