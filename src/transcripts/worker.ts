import { rm } from 'node:fs/promises';
import type { OutboxLogger } from '../bitrix/outbox.js';
import { backoffDelay } from '../util/backoff.js';
import type { JobStore, TranscriptJob } from './jobs.js';
import { MONO_SIDE, sidesOf, toMessages, type Segment, type Side } from './messages.js';
import type { Transcribe } from './stt-client.js';

/**
 * Turns waiting jobs into transcripts in the outbox: at most `concurrency` at once, each side of a call sent to the
 * server in turn, mapped to MESSAGES and handed to the outbox (which attaches it once, after the finish, with its own
 * retries). A failed request waits its backoff and is tried again, so a server that is down or slow only delays
 * transcripts; after maxTries the job is given up (logged and counted). Calls never wait for any of this.
 */

export type JobResult = 'queued' | 'empty' | 'duplicate' | 'given_up';

export interface WorkerHooks {
  /** A job ended. */
  onResult?(result: JobResult): void;
  /** One request to the server ended: its outcome and how long it took (s). */
  onRequest?(ok: boolean, seconds: number): void;
  /** Jobs failed back to back (0 after a success): the server keeps failing when this grows. */
  onStreak?(failures: number, lastError: string | undefined): void;
}

export interface WorkerDeps {
  jobs: JobStore;
  transcribe: Transcribe;
  /** Puts the transcript in the outbox; false when refused (this call already had one); throws when it has no room. */
  enqueue: (linkedid: string, params: { CALL_ID: string; MESSAGES: unknown[] }) => boolean;
  concurrency: number;
  retry: { initialMs: number; maxMs: number; maxTries: number };
  clock: () => number;
  logger: OutboxLogger;
  hooks?: WorkerHooks;
  random?: () => number;
}

export class TranscriptWorker {
  private readonly waiting = new Map<string, TranscriptJob>();
  private readonly running = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private streak = 0;
  private idle: Array<() => void> = [];

  constructor(private readonly deps: WorkerDeps) {}

  /** Jobs not yet done (waiting or in progress). */
  get depth(): number {
    return this.waiting.size;
  }

  /** Resumes what a previous run left. */
  start(): void {
    for (const job of this.deps.jobs.all()) this.waiting.set(job.linkedid, job);
    if (this.waiting.size > 0) this.deps.logger.info({ jobs: this.waiting.size }, 'transcripts: resuming jobs an earlier run left');
    this.pump();
  }

  /** A recording attached and kept for its transcript; false when this call already has a job. */
  add(job: TranscriptJob): boolean {
    if (this.waiting.has(job.linkedid) || !this.deps.jobs.add(job)) return false;
    this.waiting.set(job.linkedid, job);
    this.pump();
    return true;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Resolves once no job is waiting (tests, the bench). */
  whenIdle(): Promise<void> {
    return this.waiting.size === 0 ? Promise.resolve() : new Promise((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    if (this.stopped) return;
    const now = this.deps.clock();
    let earliest = Infinity;
    for (const job of this.waiting.values()) {
      if (this.running.size >= this.deps.concurrency) return;
      if (this.running.has(job.linkedid)) continue;
      if (job.notBefore > now) {
        earliest = Math.min(earliest, job.notBefore);
        continue;
      }
      this.running.add(job.linkedid);
      void this.run(job)
        // A bug here must cost one transcript's attempt, never the daemon: the job stays and is tried again.
        .catch((err: unknown) => {
          this.deps.logger.error({ linkedid: job.linkedid, err }, 'transcripts: unexpected failure');
          job.notBefore = this.deps.clock() + this.deps.retry.maxMs;
        })
        .finally(() => {
          this.running.delete(job.linkedid);
          if (this.waiting.size === 0) this.idle.splice(0).forEach((f) => f());
          this.pump();
        });
    }
    if (earliest < Infinity) this.wakeAt(earliest);
  }

  private wakeAt(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, Math.max(0, at - this.deps.clock()));
  }

  private async run(job: TranscriptJob): Promise<void> {
    const { logger, hooks } = this.deps;
    const ctx = { linkedid: job.linkedid, callId: job.callId, attempt: job.attempts + 1, audio: job.audio.kind };
    let sides: Array<{ side: Side; segments: Segment[] }>;
    try {
      sides = [];
      for (const { side, file } of this.files(job)) sides.push({ side, segments: await this.request(file) });
    } catch (err) {
      if (this.stopped) return;
      this.failed(job, err as Error, ctx);
      return;
    }
    // Stopped meanwhile: the job stays for the next start (the state store may be closed already).
    if (this.stopped) return;
    this.streak = 0;
    hooks?.onStreak?.(0, undefined);
    const messages = toMessages(sides, job.durationSec);
    let result: JobResult = 'empty';
    try {
      if (messages.length > 0) result = this.deps.enqueue(job.linkedid, { CALL_ID: job.callId, MESSAGES: messages }) ? 'queued' : 'duplicate';
    } catch (err) {
      // The outbox could not take it (full): the job stays and is tried again later.
      this.failed(job, err as Error, ctx);
      return;
    }
    // The same turn as the enqueue: one transaction holds the transcript and the end of its job.
    this.finish(job, result);
    logger.info({ ...ctx, messages: messages.length, result }, result === 'queued' ? 'transcript queued for the call' : `transcript not sent: ${result}`);
  }

  private files(job: TranscriptJob): Array<{ side: Side; file: string }> {
    if (job.audio.kind === 'mono') return [{ side: MONO_SIDE, file: job.audio.file }];
    const sides = sidesOf(job.recordedOn);
    return [
      { side: sides.receive, file: job.audio.receive },
      { side: sides.transmit, file: job.audio.transmit },
    ];
  }

  private async request(file: string): Promise<Segment[]> {
    const started = this.deps.clock();
    try {
      const segments = await this.deps.transcribe(file);
      this.deps.hooks?.onRequest?.(true, (this.deps.clock() - started) / 1000);
      return segments;
    } catch (err) {
      this.deps.hooks?.onRequest?.(false, (this.deps.clock() - started) / 1000);
      throw err;
    }
  }

  private failed(job: TranscriptJob, err: Error, ctx: object): void {
    const { retry, logger, hooks } = this.deps;
    this.streak++;
    hooks?.onStreak?.(this.streak, err.message);
    job.attempts++;
    job.lastError = err.message;
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    if (missing || job.attempts >= retry.maxTries) {
      logger.error({ ...ctx, error: err.message }, missing ? 'transcript given up: its audio is gone' : 'transcript given up after the last try');
      this.finish(job, 'given_up');
      return;
    }
    job.notBefore = this.deps.clock() + backoffDelay(job.attempts, { initialMs: retry.initialMs, maxMs: retry.maxMs, jitter: 0.2, random: this.deps.random ?? Math.random });
    this.deps.jobs.update(job);
    logger.warn({ ...ctx, error: err.message, retryInMs: job.notBefore - this.deps.clock() }, 'transcript request failed; will try again');
  }

  private finish(job: TranscriptJob, result: JobResult): void {
    this.deps.jobs.delete(job.linkedid);
    this.waiting.delete(job.linkedid);
    this.deps.hooks?.onResult?.(result);
    rm(job.dir, { recursive: true, force: true }).catch((err: unknown) => this.deps.logger.warn({ linkedid: job.linkedid, err }, 'transcripts: audio copy not removed'));
  }
}
