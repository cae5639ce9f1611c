import { appendFile, chmod, copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryOutboxStore } from '../../src/bitrix/outbox-entry.js';
import { Outbox, type AttachHandler, type OutboxOptions } from '../../src/bitrix/outbox.js';
import { recordingsSchema } from '../../src/config/recordings.js';
import { Runtime } from '../../src/daemon/runtime.js';
import { createMetrics } from '../../src/obs/metrics.js';
import type { RecordingHooks } from '../../src/recordings/pipeline.js';
import { setupRecordings } from '../../src/recordings/setup.js';
import { traceMessages, traceTracker } from '../support/traces.js';
import { decodedSeconds, FFMPEG, FIXTURE_WAV, memoryLogger, sineWav, startPortal, tempDir, type Portal } from './helpers.js';

let portal: Portal;
beforeEach(async () => {
  portal = await startPortal();
});
afterEach(async () => portal.close());

interface PipelineOptions {
  stateDir?: string;
  /** What the outbox store still holds, as the daemon passes it at start. */
  store?: MemoryOutboxStore;
  ffmpegPath?: string;
  growingMaxTries?: number;
  hooks?: RecordingHooks;
}

/** The recordings pipeline as the daemon builds it, reading Asterisk's spool from `spoolDir` (a "mount"). */
async function pipeline(spoolDir: string, opts: PipelineOptions = {}): Promise<AttachHandler> {
  const config = recordingsSchema.parse({
    stableMs: 60,
    appearTimeoutMs: 500,
    ...(opts.growingMaxTries ? { growingMaxTries: opts.growingMaxTries } : {}),
    source: { type: 'mount', rewrite: { from: '/var/spool/asterisk/monitor', to: spoolDir } },
  });
  const store = opts.store;
  const rec = await setupRecordings({
    config,
    stateDir: opts.stateDir ?? (await tempDir('state-')),
    ...(store ? { pendingAttachments: () => store.load().entries.filter((e) => e.kind === 'attach') } : {}),
    client: portal.client,
    logger: memoryLogger(),
    ...(opts.hooks ? { hooks: opts.hooks } : {}),
    lookupFfmpeg: async () => ({ ffmpeg: { source: 'path', path: opts.ffmpegPath ?? FFMPEG, version: 'test' }, problems: [] }),
  });
  return rec!.attach;
}

/** ffmpeg behind a script that counts the transcodes it runs. */
async function countingFfmpeg(): Promise<{ path: string; transcodes: () => Promise<number> }> {
  const dir = await tempDir('ffmpeg-');
  const log = join(dir, 'transcodes');
  const path = join(dir, 'ffmpeg');
  await writeFile(log, '');
  await writeFile(path, `#!/bin/sh\necho x >> ${log}\nexec ${FFMPEG} "$@"\n`);
  await chmod(path, 0o755);
  return { path, transcodes: async () => (await readFile(log, 'utf8')).split('\n').filter(Boolean).length };
}

function outbox(store: MemoryOutboxStore, attach: AttachHandler, extra: Partial<OutboxOptions> = {}): Outbox {
  return new Outbox({
    client: portal.client,
    store,
    clock: Date.now,
    limiterDelay: () => 0,
    logger: memoryLogger(),
    attach,
    lingerMs: 1,
    initialRetryDelayMs: 20,
    maxRetryDelayMs: 50,
    ...extra,
  });
}

const REGISTER = { USER_ID: 11, PHONE_NUMBER: '5558001', TYPE: 2, CRM_CREATE: 0, SHOW: 0, EXTERNAL_CALL_ID: '1795263642.90' };
const FINISH = { USER_ID: 11, DURATION: 6, STATUS_CODE: '200', ADD_TO_CHAT: 0 };
const ATTACH = { path: '/var/spool/asterisk/monitor/1795263642.90.wav', endedAt: 1795263649836 };

/** Runs the first daemon until the attach has failed once on a portal that went down right after the finish. */
async function firstRunLeavesAPendingUpload(store: MemoryOutboxStore, attach: AttachHandler): Promise<void> {
  let stopFirst: () => void = () => undefined;
  const failedOnce = new Promise<void>((resolve) => (stopFirst = resolve));
  const first = outbox(store, attach, {
    hooks: {
      onDelivered: (e) => e.kind === 'finish' && portal.emu.faults.setDown(503),
      onRetry: (e) => e.kind === 'attach' && stopFirst(),
    },
  });
  first.enqueue('1795263642.90', 'register', 'telephony.externalcall.register', REGISTER, false);
  first.enqueue('1795263642.90', 'finish', 'telephony.externalcall.finish', FINISH);
  first.enqueue('1795263642.90', 'attach', 'telephony.externalCall.attachRecord', ATTACH);
  await failedOnce;
  first.stop();
  portal.emu.faults.setUp();
}

describe('recordings through the outbox', () => {
  it('retries an upload after emulator 503s and attaches it once the portal is back', async () => {
    const store = new MemoryOutboxStore();
    const o = outbox(store, await pipeline(dirname(FIXTURE_WAV)), {
      hooks: { onDelivered: (e) => e.kind === 'finish' && portal.emu.faults.failNext(2, { status: 503, error: 'QUERY_LIMIT_EXCEEDED' }) },
    });
    o.enqueue('L1', 'register', 'telephony.externalcall.register', REGISTER, false);
    o.enqueue('L1', 'finish', 'telephony.externalcall.finish', FINISH);
    o.enqueue('L1', 'attach', 'telephony.externalCall.attachRecord', ATTACH);
    expect(await o.drain(10_000)).toBe(true);
    o.stop();
    expect(o.parkedEntries()).toEqual([]);
    expect(portal.emu.records).toHaveLength(1);
    expect(portal.emu.records[0]!.callId).toBe([...portal.emu.calls.keys()][0]);
    const attempts = portal.emu.requests.filter((r) => r.restMethod === 'telephony.externalcall.attachrecord').map((r) => r.status);
    expect(attempts).toEqual([503, 503, 200]);
  });

  it('delivers an upload still pending when the daemon stopped, from the same store after a restart', async () => {
    const store = new MemoryOutboxStore();
    const attach = await pipeline(dirname(FIXTURE_WAV));
    await firstRunLeavesAPendingUpload(store, attach);
    expect(portal.emu.records).toEqual([]);
    expect(store.load().entries.map((e) => e.kind)).toEqual(['attach']);

    // A new daemon on the same store: nothing new is enqueued, what was left goes out by itself.
    const second = outbox(store, attach);
    expect(await second.drain(10_000)).toBe(true);
    second.stop();
    const callId = [...portal.emu.calls.values()].find((c) => c.externalCallId === '1795263642.90')?.callId;
    expect(callId).toBeDefined();
    expect(portal.emu.records).toHaveLength(1);
    expect(portal.emu.records[0]).toMatchObject({ callId, fileName: '1795263642.90.mp3' });
    expect(store.load().entries).toEqual([]);
  });
});

describe('recordings across retries and restarts', () => {
  it('after a restart, sends the MP3 the first run prepared instead of transcoding again, then removes it', async () => {
    const store = new MemoryOutboxStore();
    const stateDir = await tempDir('state-');
    const ffmpeg = await countingFfmpeg();
    await firstRunLeavesAPendingUpload(store, await pipeline(dirname(FIXTURE_WAV), { stateDir, ffmpegPath: ffmpeg.path }));
    expect(await ffmpeg.transcodes()).toBe(1);
    expect(await readdir(join(stateDir, 'recordings'))).toEqual([expect.stringMatching(/^prepared-\d+-1795263642\.90\.mp3$/)]);

    // The second daemon sets up on the same state dir and store: the pending entry keeps its MP3.
    const second = outbox(store, await pipeline(dirname(FIXTURE_WAV), { stateDir, store, ffmpegPath: ffmpeg.path }));
    expect(await second.drain(10_000)).toBe(true);
    second.stop();
    expect(await ffmpeg.transcodes()).toBe(1);
    expect(portal.emu.records).toHaveLength(1);
    expect(Math.abs((await decodedSeconds(portal.emu.records[0]!.bytes)) - 5.98)).toBeLessThan(0.2);
    expect(await readdir(join(stateDir, 'recordings'))).toEqual([]);
  });

  it('gives up on a file that keeps growing after growingMaxTries, attaches what was recorded and counts it', { timeout: 30_000 }, async () => {
    const spool = await tempDir('monitor-');
    const file = join(spool, '1795263642.90.wav');
    await writeFile(file, sineWav(2));
    // MixMonitor still writing: the channel lives on (a transfer), 320 bytes (20 ms) at a time.
    const writer = setInterval(() => void appendFile(file, Buffer.alloc(320, 1)), 20);
    const metrics = createMetrics({ processMetrics: false });
    const attaches: number[] = [];
    try {
      const o = outbox(new MemoryOutboxStore(), await pipeline(spool, { growingMaxTries: 3, hooks: metrics.recordings.hooks() }), {
        hooks: { onRetry: (e) => e.kind === 'attach' && attaches.push(e.attempts) },
      });
      o.enqueue('L1', 'register', 'telephony.externalcall.register', REGISTER, false);
      o.enqueue('L1', 'finish', 'telephony.externalcall.finish', FINISH);
      o.enqueue('L1', 'attach', 'telephony.externalCall.attachRecord', ATTACH);
      expect(await o.drain(20_000)).toBe(true);
      o.stop();
      expect(o.parkedEntries()).toEqual([]);
    } finally {
      clearInterval(writer);
    }
    // Two retries, then the third try takes the file as it is.
    expect(attaches).toEqual([1, 2]);
    const scrape = await metrics.scrape();
    expect(scrape).toContain('b24bridge_recordings_failed_total{reason="growing"} 1');
    expect(scrape).toContain('b24bridge_recordings_attached_total{format="mp3"} 1');
    expect(portal.emu.records).toHaveLength(1);
    expect(await decodedSeconds(portal.emu.records[0]!.bytes)).toBeGreaterThan(2);
  });
});

describe('the recording trace replayed end to end', () => {
  it('attaches an MP3 of the recording to the right CALL_ID, after the finish', { timeout: 60_000 }, async () => {
    const spool = await tempDir('monitor-');
    await copyFile(FIXTURE_WAV, join(spool, '1795263642.90.wav'));
    const o = outbox(new MemoryOutboxStore(), await pipeline(spool));
    const runtime = new Runtime({
      tracker: traceTracker(),
      outbox: o,
      logger: pino({ level: 'silent' }),
      clock: Date.now,
      commands: { addToChat: true },
      recordingsEnabled: true,
    });
    for (const msg of traceMessages('recording')) runtime.handleAmiEvent(msg);
    expect(await o.drain(20_000)).toBe(true);
    o.stop();

    const call = [...portal.emu.calls.values()].find((c) => c.externalCallId === '1795263642.90');
    expect(call?.finished).toBe(true);
    expect(portal.emu.records).toHaveLength(1);
    const [record] = portal.emu.records;
    expect(record).toMatchObject({ callId: call!.callId, fileName: '1795263642.90.mp3' });
    expect(Math.abs((await decodedSeconds(record!.bytes)) - 5.98)).toBeLessThan(0.2);
    const executed = portal.emu.commands.filter((c) => c.ok).map((c) => c.method);
    expect(executed.indexOf('telephony.externalcall.finish')).toBeLessThan(executed.indexOf('telephony.externalcall.attachrecord'));
  });
});
