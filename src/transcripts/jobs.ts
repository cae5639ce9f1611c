import type { StateDb } from '../store/db.js';

/**
 * The durable list of recordings waiting for their transcript: written when the recording is attached (the audio
 * kept beside it), deleted in the same transaction that puts the transcript in the outbox, so a kill -9 anywhere in
 * between leaves either the job (done again) or the outbox entry (sent), never neither; the outbox's once-per-call
 * mark refuses a second transcript of a call whose job ran twice.
 */

/** The audio of one call as kept for its transcript. */
export type TranscriptAudio =
  /**
   * The two sides apart: what the recorded channel sent (its own party's voice) and what it heard. From MixMonitor's
   * r() and t() files, or split from a two-channel (D option) file, whose channel 0 is the sent audio.
   */
  | { kind: 'pair'; from: 'files' | 'stereo'; receive: string; transmit: string }
  /** One mixed file: both voices in one, the sides cannot be told apart. */
  | { kind: 'mono'; file: string };

export interface TranscriptJob {
  linkedid: string;
  callId: string;
  /** Directory holding this job's copy of the audio; removed with the job. */
  dir: string;
  audio: TranscriptAudio;
  /** The finish's DURATION: every time sent lies within it. */
  durationSec: number;
  /** Whose voice the recorded channel carries: its receive side is the customer's (Client) or the agent's (User). */
  recordedOn: 'customer' | 'agent';
  attempts: number;
  notBefore: number;
  createdAt: number;
  lastError?: string;
}

export interface JobStore {
  all(): TranscriptJob[];
  /** false: this call already has a job. */
  add(job: TranscriptJob): boolean;
  update(job: TranscriptJob): void;
  delete(linkedid: string): void;
}

type Stored = Omit<TranscriptJob, 'linkedid' | 'attempts' | 'notBefore' | 'createdAt' | 'lastError'>;

interface Row {
  linkedid: string;
  job: string;
  attempts: number;
  not_before: number;
  created_at: number;
  last_error: string | null;
}

/**
 * In the state database; writes join the turn's open transaction (the outbox's) when there is one. A write that fails
 * (disk full, read-only) is reported and the worker goes on from memory, as the outbox does: only the restart
 * guarantee of that job is lost.
 */
export class SqliteJobStore implements JobStore {
  private readonly stmt;

  constructor(
    private readonly db: StateDb,
    private readonly onError: (err: Error, op: string) => void = () => undefined,
  ) {
    this.stmt = {
      all: db.prepare('SELECT * FROM transcript_jobs ORDER BY created_at'),
      add: db.prepare(
        'INSERT OR IGNORE INTO transcript_jobs (linkedid, job, attempts, not_before, created_at, last_error) VALUES (@linkedid, @job, @attempts, @not_before, @created_at, @last_error)',
      ),
      update: db.prepare('UPDATE transcript_jobs SET attempts = ?, not_before = ?, last_error = ? WHERE linkedid = ?'),
      delete: db.prepare('DELETE FROM transcript_jobs WHERE linkedid = ?'),
    };
  }

  all(): TranscriptJob[] {
    return (this.stmt.all.all() as Row[]).map((r) => ({
      ...(JSON.parse(r.job) as Stored),
      linkedid: r.linkedid,
      attempts: r.attempts,
      notBefore: r.not_before,
      createdAt: r.created_at,
      ...(r.last_error !== null ? { lastError: r.last_error } : {}),
    }));
  }

  /** A failed write counts as added: the worker keeps the job in memory (one per call still holds there). */
  add(job: TranscriptJob): boolean {
    const { linkedid, attempts, notBefore, createdAt, lastError, ...rest } = job;
    const stored: Stored = rest;
    let added = true;
    this.safe('add', () => {
      added = this.stmt.add.run({ linkedid, job: JSON.stringify(stored), attempts, not_before: notBefore, created_at: createdAt, last_error: lastError ?? null }).changes > 0;
    });
    return added;
  }

  update(job: TranscriptJob): void {
    this.safe('update', () => this.stmt.update.run(job.attempts, job.notBefore, job.lastError ?? null, job.linkedid));
  }

  delete(linkedid: string): void {
    this.safe('delete', () => this.stmt.delete.run(linkedid));
  }

  private safe(op: string, write: () => unknown): void {
    try {
      write();
    } catch (err) {
      this.onError(err as Error, `transcript job ${op}`);
    }
  }
}

/** Without a state database (tests, the demo): the same contract in memory. */
export class MemoryJobStore implements JobStore {
  private readonly jobs = new Map<string, TranscriptJob>();

  all(): TranscriptJob[] {
    return [...this.jobs.values()].map((j) => ({ ...j }));
  }
  add(job: TranscriptJob): boolean {
    if (this.jobs.has(job.linkedid)) return false;
    this.jobs.set(job.linkedid, { ...job });
    return true;
  }
  update(job: TranscriptJob): void {
    if (this.jobs.has(job.linkedid)) this.jobs.set(job.linkedid, { ...job });
  }
  delete(linkedid: string): void {
    this.jobs.delete(linkedid);
  }
}
