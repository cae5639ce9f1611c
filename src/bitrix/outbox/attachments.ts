import type { CallQueues } from './queues.js';
import { toBitrixError } from './retry-policy.js';
import type { Settler } from './settle.js';
import type { AttachHandler } from './types.js';

/**
 * The attachment lane: recordings go one per call, outside batches (uploads cannot be batched), at most `max` at
 * once, and never take a batch slot (a recording may wait a minute for its file). An attachment waits at the head of
 * its call's queue, so the finish before it has gone.
 */

export interface AttachmentLaneDeps {
  queues: CallQueues;
  settler: Settler;
  attach?: AttachHandler | undefined;
  max: number;
  /** An attachment settled: the lane and the call's queue may move on. */
  next: () => void;
}

export class AttachmentLane {
  /** Attachments in progress. */
  inFlight = 0;

  constructor(private readonly deps: AttachmentLaneDeps) {}

  start(now: number): void {
    const { queues, settler, attach } = this.deps;
    for (const q of queues.values()) {
      if (this.inFlight >= this.deps.max) return;
      const head = q.entries[0];
      if (q.inFlight || head?.kind !== 'attach' || head.notBefore > now) continue;
      if (!attach || q.callId === undefined) {
        queues.park(head, attach ? 'no CALL_ID for this call' : 'recordings are not enabled');
        continue;
      }
      q.inFlight = true;
      this.inFlight++;
      attach(head, q.callId)
        .then(
          () => queues.delivered(head, undefined),
          (err: unknown) => {
            const error = toBitrixError(err);
            if (error.kind === 'retryable') settler.retryLater(head, error);
            else queues.park(head, `${error.errorCode}: ${error.description}`);
          },
        )
        .finally(() => {
          q.inFlight = false;
          queues.forgetIfDone(head.key, q);
          this.inFlight--;
          this.deps.next();
        });
    }
  }
}
