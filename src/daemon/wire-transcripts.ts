import type { BitrixClient } from '../bitrix/client.js';
import type { Outbox } from '../bitrix/outbox.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../obs/logger.js';
import type { Metrics } from '../obs/metrics.js';
import { ATTACH_TRANSCRIPTION } from '../transcripts/attach.js';
import { setupTranscripts, type Transcripts } from '../transcripts/setup.js';
import type { WorkerHooks } from '../transcripts/worker.js';
import type { Lifecycle } from './lifecycle.js';
import type { Problems } from './problems.js';
import type { StateStore } from './state-store.js';

/**
 * Transcripts (issue 18), wired: built before the recordings (they take its hand-off) and the outbox (it fills it),
 * started once the outbox exists. A server that keeps failing shows as a warning in /healthz, cleared by the next
 * success. undefined parts when transcripts.enabled is false.
 */

export interface TranscriptsWiring {
  transcripts: Transcripts | undefined;
  /** The outbox is built: resume the jobs a previous run left, and stop the worker before the state store closes. */
  start(outbox: Outbox, lifecycle: Lifecycle): void;
}

export async function wireTranscripts(
  config: Config,
  deps: { state: StateStore; client: BitrixClient; clock: () => number; logger: Logger; metrics: Metrics | undefined; problems: Problems },
): Promise<TranscriptsWiring> {
  const { metrics: m, problems } = deps;
  let outbox: Outbox | undefined;
  const counted = m?.transcripts.workerHooks();
  const hooks: WorkerHooks = {
    ...counted,
    onStreak: (failures, lastError) => {
      counted?.onStreak?.(failures, lastError);
      if (failures === 0) problems.clear('transcripts');
      else if (failures >= config.transcripts.failuresBeforeWarning) {
        problems.set('transcripts', `speech-to-text server failed ${failures} transcript requests in a row (last: ${lastError}); transcripts wait, calls are unaffected`, false);
      }
    },
  };
  const transcripts = await setupTranscripts({
    config: config.transcripts,
    stateDir: config.state.dir,
    db: deps.state.db,
    client: deps.client,
    enqueue: (linkedid, params) => {
      if (!outbox) throw new Error('the outbox is not ready yet');
      // No room must not cost the transcript: the job stays and is tried again later.
      if (!outbox.hasRoomFor('transcript')) throw new Error('the outbox is full');
      // Refused now only as a duplicate: this call has had its transcript.
      return outbox.enqueue(linkedid, 'transcript', ATTACH_TRANSCRIPTION, params, false);
    },
    nice: config.recordings.nice,
    keepOriginals: config.recordings.keepOriginals,
    clock: deps.clock,
    logger: deps.logger.child({ part: 'transcripts' }),
    hooks,
    onStoreError: (err, op) => {
      problems.set('store', `state store ${op}: ${err.message}`, false);
      deps.logger.error({ err, op }, 'transcripts: state store write failed; the job goes on from memory');
    },
    ...(m ? { onSkipped: m.transcripts.skipped, onNotKept: () => m.transcripts.outcome('not_kept') } : {}),
  });
  return {
    transcripts,
    start(built, lifecycle) {
      outbox = built;
      if (!transcripts) return;
      transcripts.worker.start();
      m?.transcripts.observePending(() => transcripts.worker.depth);
      // Stops run in reverse: before the state store closes. A request still running leaves its job for the next start.
      lifecycle.onStop('transcripts', () => transcripts.worker.stop());
    },
  };
}
