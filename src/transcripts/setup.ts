import { join } from 'node:path';
import type { BitrixClient } from '../bitrix/client.js';
import type { OutboxLogger, TranscriptHandler } from '../bitrix/outbox.js';
import type { TranscriptsConfig } from '../config/transcripts.js';
import type { StateDb } from '../store/db.js';
import { createTranscriptHandler } from './attach.js';
import { clearStaleJobDirs, createHandOff, type HandOffDeps, type RecordingHandOff } from './handoff.js';
import { MemoryJobStore, SqliteJobStore } from './jobs.js';
import { createSttClient, type Transcribe } from './stt-client.js';
import { TranscriptWorker, type WorkerHooks } from './worker.js';

/** Builds transcripts from the `transcripts:` section: the daemon's one call to wire them. undefined when disabled. */

export interface TranscriptsSetup {
  config: TranscriptsConfig;
  /** `state.dir`: the jobs' audio lives in <state.dir>/transcripts. */
  stateDir: string;
  /** The state database (the jobs table); undefined in tests that run without a disk store. */
  db: StateDb | undefined;
  client: Pick<BitrixClient, 'call'>;
  /** Set once the outbox exists: puts a transcript in it (kind 'transcript'); false when refused. */
  enqueue: (linkedid: string, params: { CALL_ID: string; MESSAGES: unknown[] }) => boolean;
  /** ffmpeg's niceness for the channel split (recordings.nice). */
  nice: number;
  /** recordings.keepOriginals: false also deletes the r()/t() files once the job has its copies. */
  keepOriginals: boolean;
  clock: () => number;
  logger: OutboxLogger;
  hooks?: WorkerHooks;
  onSkipped?: HandOffDeps['onSkipped'];
  onNotKept?: () => void;
  /** A job write failed (disk full): reported like the outbox's own store failures. */
  onStoreError?: (err: Error, op: string) => void;
  /** Replaces the HTTP client (tests). */
  transcribe?: Transcribe;
}

export interface Transcripts {
  handOff: RecordingHandOff;
  handler: TranscriptHandler;
  worker: TranscriptWorker;
  workDir: string;
}

export async function setupTranscripts(deps: TranscriptsSetup): Promise<Transcripts | undefined> {
  const { config, logger } = deps;
  if (!config.enabled) return undefined;
  const jobs = deps.db ? new SqliteJobStore(deps.db, deps.onStoreError) : new MemoryJobStore();
  const workDir = join(deps.stateDir, 'transcripts');
  const removed = await clearStaleJobDirs(workDir, jobs);
  if (removed > 0) logger.info({ workDir, removed }, 'transcripts: removed audio no job owns (an earlier run stopped mid-copy)');
  const transcribe =
    deps.transcribe ?? createSttClient({ url: config.url!, model: config.model!, language: config.language, apiKey: config.apiKey, timeoutMs: config.timeoutMs });
  const worker = new TranscriptWorker({
    jobs,
    transcribe,
    enqueue: deps.enqueue,
    concurrency: config.concurrency,
    retry: { initialMs: config.initialRetryDelayMs, maxMs: config.maxRetryDelayMs, maxTries: config.maxTries },
    clock: deps.clock,
    logger,
    ...(deps.hooks ? { hooks: deps.hooks } : {}),
  });
  const handOff = createHandOff({
    config,
    workDir,
    worker,
    clock: deps.clock,
    logger,
    nice: deps.nice,
    keepOriginals: deps.keepOriginals,
    ...(deps.onSkipped ? { onSkipped: deps.onSkipped } : {}),
    ...(deps.onNotKept ? { onFailed: deps.onNotKept } : {}),
  });
  // The URL only: it may carry a key in its query for some servers; the model and language help an admin read the log.
  logger.info({ server: new URL(config.url!).origin, model: config.model, language: config.language, concurrency: config.concurrency }, 'transcripts: enabled');
  return { handOff, handler: createTranscriptHandler(deps.client, logger), worker, workDir };
}
