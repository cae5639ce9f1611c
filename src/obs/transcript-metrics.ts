import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Skip } from '../transcripts/policy.js';
import type { WorkerHooks } from '../transcripts/worker.js';

/**
 * Transcripts' metrics (issue 18), in the daemon's registry: how transcripts end, how the speech-to-text server
 * answers, what waits. Labels are bounded words only.
 */

export type TranscriptOutcome = 'attached' | 'empty' | 'given_up' | 'parked' | 'duplicate' | 'not_kept';

export function createTranscriptMetrics(registers: Registry[], prefix: string) {
  let pending: (() => number) | undefined;
  let streak = 0;
  const total = new Counter({
    name: `${prefix}transcripts_total`,
    help: 'Transcripts by how they ended: attached, empty (no speech), given_up (the server kept failing), parked (Bitrix24 refused it), duplicate, not_kept (audio not kept).',
    labelNames: ['result'] as const,
    registers,
  });
  const skipped = new Counter({ name: `${prefix}transcripts_skipped_total`, help: 'Recorded calls not transcribed, by reason (not answered, too short, direction, queue).', labelNames: ['reason'] as const, registers });
  const requests = new Counter({ name: `${prefix}transcript_requests_total`, help: 'Requests to the speech-to-text server, by outcome (ok, error).', labelNames: ['outcome'] as const, registers });
  const duration = new Histogram({
    name: `${prefix}transcript_request_duration_seconds`,
    help: 'Time the speech-to-text server took per request (one side of one call).',
    buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300],
    registers,
  });
  new Gauge({
    name: `${prefix}transcripts_pending`,
    help: 'Recordings waiting for their transcript (restarts included).',
    registers,
    collect() {
      if (pending) this.set(pending());
    },
  });
  new Gauge({
    name: `${prefix}transcript_failure_streak`,
    help: 'Transcript requests failed back to back (0 after a success): the server is down or failing while this grows.',
    registers,
    collect() {
      this.set(streak);
    },
  });
  return {
    workerHooks(): WorkerHooks {
      return {
        onResult: (result) => {
          // 'queued' ends in the outbox: counted there as attached or parked.
          if (result !== 'queued') total.inc({ result });
        },
        onRequest: (ok, seconds) => {
          requests.inc({ outcome: ok ? 'ok' : 'error' });
          duration.observe(seconds);
        },
        onStreak: (n) => {
          streak = n;
        },
      };
    },
    outcome: (result: TranscriptOutcome) => total.inc({ result }),
    skipped: (reason: Skip) => skipped.inc({ reason }),
    observePending(read: () => number): void {
      pending = read;
    },
  };
}
