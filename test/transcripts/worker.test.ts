import { join } from 'node:path';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MemoryOutboxStore } from '../../src/bitrix/outbox-entry.js';
import { Outbox } from '../../src/bitrix/outbox.js';
import type { BitrixClient } from '../../src/bitrix/client.js';
import { SqliteOutboxStore } from '../../src/store/sqlite-outbox-store.js';
import { openStateDb } from '../../src/store/db.js';
import { MemoryJobStore, SqliteJobStore, type TranscriptJob } from '../../src/transcripts/jobs.js';
import { TranscriptWorker, type JobResult } from '../../src/transcripts/worker.js';
import { silentLogger } from '../support/logger.js';
import { tempDir } from '../support/tmp.js';
import { sleep, waitFor } from '../support/wait.js';

function job(linkedid: string, over: Partial<TranscriptJob> = {}): TranscriptJob {
  const dir = join(tempDir('job-'), linkedid);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'mixed.wav'), 'RIFF');
  return { linkedid, callId: `externalCall.${linkedid}`, dir, audio: { kind: 'mono', file: join(dir, 'mixed.wav') }, durationSec: 10, recordedOn: 'customer', attempts: 0, notBefore: 0, createdAt: 0, ...over };
}

function worker(transcribe: (file: string) => Promise<Array<{ start: number; end: number; text: string }>>, over: { concurrency?: number; maxTries?: number } = {}) {
  const jobs = new MemoryJobStore();
  const queued: Array<{ linkedid: string; params: unknown }> = [];
  const results: JobResult[] = [];
  const w = new TranscriptWorker({
    jobs,
    transcribe,
    enqueue: (linkedid, params) => {
      queued.push({ linkedid, params });
      return true;
    },
    concurrency: over.concurrency ?? 1,
    retry: { initialMs: 10, maxMs: 20, maxTries: over.maxTries ?? 50 },
    clock: Date.now,
    logger: silentLogger,
    hooks: { onResult: (r) => results.push(r) },
  });
  return { w, jobs, queued, results };
}

describe('the transcript worker', () => {
  it('never has more than `concurrency` requests at the server at once', async () => {
    let inFlight = 0;
    let most = 0;
    const { w, queued } = worker(
      async () => {
        most = Math.max(most, ++inFlight);
        await sleep(20);
        inFlight--;
        return [{ start: 0, end: 1, text: 'hi' }];
      },
      { concurrency: 2 },
    );
    w.start();
    for (let i = 0; i < 6; i++) w.add(job(`L${i}`));
    await w.whenIdle();
    expect(queued).toHaveLength(6);
    expect(most).toBe(2);
  });

  it('gives a job up after maxTries failures, removing its audio; a job whose audio is gone at once', async () => {
    const { w, jobs, results, queued } = worker(async () => Promise.reject(new Error('HTTP 500')), { maxTries: 3 });
    w.start();
    const j = job('L1');
    w.add(j);
    await waitFor(() => results.length === 1, 'the give-up');
    expect(results).toEqual(['given_up']);
    expect(jobs.all()).toEqual([]);
    expect(queued).toEqual([]);
    await waitFor(() => !existsSync(j.dir), 'the audio removed');

    const gone = worker(async (file) => Promise.reject(Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' })));
    gone.w.start();
    gone.w.add(job('L2'));
    await waitFor(() => gone.results.length === 1, 'the give-up');
    expect(gone.results).toEqual(['given_up']);
  });

  it('an outbox with no room does not cost the transcript: the job waits and is done again', async () => {
    const jobs = new MemoryJobStore();
    const results: JobResult[] = [];
    let refusals = 1;
    let asked = 0;
    const w = new TranscriptWorker({
      jobs,
      transcribe: async () => {
        asked++;
        return [{ start: 0, end: 1, text: 'hi' }];
      },
      enqueue: () => {
        if (refusals-- > 0) throw new Error('the outbox is full');
        return true;
      },
      concurrency: 1,
      retry: { initialMs: 10, maxMs: 20, maxTries: 5 },
      clock: Date.now,
      logger: silentLogger,
      hooks: { onResult: (r) => results.push(r) },
    });
    w.start();
    w.add(job('L1'));
    await waitFor(() => results.length === 1, 'the job to end');
    expect(results).toEqual(['queued']);
    expect(asked).toBe(2);
    expect(jobs.all()).toEqual([]);
  });

  it('a job with no speech ends empty: nothing is queued', async () => {
    const { w, results, queued } = worker(async () => [{ start: 0, end: 1, text: ' ' }]);
    w.start();
    w.add(job('L1'));
    await w.whenIdle();
    expect(results).toEqual(['empty']);
    expect(queued).toEqual([]);
  });

  it('one job per call: a second hand-off of the same call is refused', () => {
    const { w } = worker(async () => new Promise(() => undefined));
    expect(w.add(job('L1'))).toBe(true);
    expect(w.add(job('L1'))).toBe(false);
    w.stop();
  });

  it('keeps jobs in the state database across a restart, and deletes one in the transaction that queues its transcript', () => {
    const dir = tempDir('state-');
    const db = openStateDb(dir);
    const jobs = new SqliteJobStore(db);
    const j = job('L1', { attempts: 2, notBefore: 5, lastError: 'HTTP 500' });
    expect(jobs.add(j)).toBe(true);
    expect(jobs.add(j)).toBe(false);
    db.close();
    const again = openStateDb(dir);
    expect(new SqliteJobStore(again).all()).toEqual([j]);
    // The outbox's turn: the transcript and the end of its job commit together.
    const store = new SqliteOutboxStore(again, () => undefined);
    const outbox = new Outbox({ client: {} as BitrixClient, store, clock: Date.now, limiterDelay: () => 0, logger: silentLogger, transcript: async () => new Promise(() => undefined) });
    expect(outbox.enqueue('L1', 'transcript', 'telephony.call.attachTranscription', { CALL_ID: 'c', MESSAGES: [] }, false)).toBe(true);
    new SqliteJobStore(again).delete('L1');
    expect(again.inTransaction).toBe(true);
    store.flush();
    outbox.stop();
    expect(new SqliteJobStore(again).all()).toEqual([]);
    expect(store.load().entries.map((e) => e.kind)).toEqual(['transcript']);
    again.close();
  });
});

describe('the outbox takes one transcript per call, ever', () => {
  it('refuses a second one (also after a restart on the same state), and sends the first through its handler', async () => {
    const dir = tempDir('state-');
    const sent: string[] = [];
    const make = (store: MemoryOutboxStore | SqliteOutboxStore) =>
      new Outbox({
        client: {} as BitrixClient,
        store,
        clock: Date.now,
        limiterDelay: () => 0,
        logger: silentLogger,
        lingerMs: 1,
        transcript: async (e) => void sent.push(e.key),
      });
    const db = openStateDb(dir);
    const first = make(new SqliteOutboxStore(db, () => undefined));
    expect(first.enqueue('L1', 'transcript', 'telephony.call.attachTranscription', { CALL_ID: 'c1', MESSAGES: [] }, false)).toBe(true);
    expect(first.enqueue('L1', 'transcript', 'telephony.call.attachTranscription', { CALL_ID: 'c1', MESSAGES: [] }, false)).toBe(false);
    expect(await first.drain(2_000)).toBe(true);
    first.stop();
    db.close();
    const db2 = openStateDb(dir);
    const second = make(new SqliteOutboxStore(db2, () => undefined));
    expect(second.enqueue('L1', 'transcript', 'telephony.call.attachTranscription', { CALL_ID: 'c1', MESSAGES: [] }, false)).toBe(false);
    second.stop();
    db2.close();
    expect(sent).toEqual(['L1']);
  });

  it('parks a transcript when transcripts are not enabled (no handler): visible, never silently dropped', async () => {
    const outbox = new Outbox({ client: {} as BitrixClient, store: new MemoryOutboxStore(), clock: Date.now, limiterDelay: () => 0, logger: silentLogger, lingerMs: 1 });
    outbox.enqueue('L1', 'transcript', 'telephony.call.attachTranscription', { CALL_ID: 'c1', MESSAGES: [] }, false);
    await waitFor(() => outbox.parkedEntries().length === 1, 'the parked transcript');
    expect(outbox.parkedEntries()[0]).toMatchObject({ kind: 'transcript', error: 'transcripts are not enabled' });
    outbox.stop();
  });
});

describe('the state store failing under the worker', () => {
  it('a jobs table that cannot be written (the database closed) is reported, and the job still goes to the outbox from memory', async () => {
    const db = openStateDb(tempDir('state-'));
    const errors: string[] = [];
    const jobs = new SqliteJobStore(db, (_err, op) => errors.push(op));
    db.close();
    const queued: string[] = [];
    const w = new TranscriptWorker({
      jobs,
      transcribe: async () => [{ start: 0, end: 1, text: 'hi' }],
      enqueue: (linkedid) => {
        queued.push(linkedid);
        return true;
      },
      concurrency: 1,
      retry: { initialMs: 10, maxMs: 20, maxTries: 5 },
      clock: Date.now,
      logger: silentLogger,
    });
    expect(w.add(job('L1'))).toBe(true);
    await w.whenIdle();
    expect(queued).toEqual(['L1']);
    expect(errors).toEqual(['transcript job add', 'transcript job delete']);
  });
});
