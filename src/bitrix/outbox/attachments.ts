import type { OutboxEntry } from '../outbox-entry.js';
import type { CallQueues, KeyQueue } from './queues.js';
import { toBitrixError } from './retry-policy.js';
import type { Settler } from './settle.js';
import type { AttachHandler, TranscriptHandler } from './types.js';

/**
 * The attachment lane: recordings (uploads cannot be batched) and transcripts (whose resend after a lost answer must
 * first ask the portal whether the lost one landed) go one per call, outside batches, at most `max` at once, and
 * never take a batch slot (a recording may wait a minute for its file). One waits at the head of its call's queue,
 * so the finish before it has gone.
 */

export interface AttachmentLaneDeps {
  queues: CallQueues;
  settler: Settler;
  attach?: AttachHandler | undefined;
  transcript?: TranscriptHandler | undefined;
  max: number;
  /** An attachment settled: the lane and the call's queue may move on. */
  next: () => void;
}

export class AttachmentLane {
  /** Attachments in progress. */
  inFlight = 0;

  constructor(private readonly deps: AttachmentLaneDeps) {}

  start(now: number): void {
    const { queues, attach, transcript } = this.deps;
    for (const q of queues.values()) {
      if (this.inFlight >= this.deps.max) return;
      const head = q.entries[0];
      if (q.inFlight || head === undefined || head.notBefore > now) continue;
      if (head.kind === 'attach') {
        if (!attach || q.callId === undefined) {
          queues.park(head, attach ? 'no CALL_ID for this call' : 'recordings are not enabled');
          continue;
        }
        const callId = q.callId;
        this.run(q, head, () => attach(head, callId));
      } else if (head.kind === 'transcript') {
        if (!transcript) {
          queues.park(head, 'transcripts are not enabled');
          continue;
        }
        this.run(q, head, () => transcript(head));
      }
    }
  }

  private run(q: KeyQueue, head: OutboxEntry, perform: () => Promise<void>): void {
    const { queues, settler } = this.deps;
    q.inFlight = true;
    this.inFlight++;
    perform()
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
