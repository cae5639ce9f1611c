import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BitrixError } from '../../src/bitrix/errors.js';
import { attachRecordFile } from '../../src/recordings/attach.js';
import { transcodeToMp3 } from '../../src/recordings/transcode.js';
import { decodedSeconds, FFMPEG, FIXTURE_WAV, sineWav, startPortal, tempDir, writeTemp, type Portal } from './helpers.js';

let portal: Portal;
beforeEach(async () => {
  portal = await startPortal();
});
afterEach(async () => portal.close());

async function mp3Of(seconds: number): Promise<string> {
  const dir = await tempDir();
  const wav = await writeTemp(dir, 'in.wav', sineWav(seconds));
  const out = join(dir, 'call.mp3');
  await transcodeToMp3(wav, out, { bitrateKbps: 32, timeoutMs: 60_000, nice: 10, ffmpegPath: FFMPEG });
  return out;
}

const deps = (inlineMaxBytes: number, extra: object = {}) => ({ client: portal.client, inlineMaxBytes, timeoutMs: 10_000, ...extra });

describe('attaching a file to a finished Bitrix24 call', () => {
  it('sends a file below the threshold inline as base64, in one request', async () => {
    const callId = await portal.finishedCall();
    const file = await mp3Of(3);
    const r = await attachRecordFile(deps(1024 * 1024), { callId, file, fileName: 'call.mp3' });
    expect(r).toMatchObject({ mode: 'base64' });
    expect(r.fileId).toBeGreaterThan(0);
    const [record] = portal.emu.records;
    expect(record).toMatchObject({ callId, fileName: 'call.mp3', mode: 'base64' });
    expect(Math.abs((await decodedSeconds(record!.bytes)) - 3)).toBeLessThan(0.2);
  });

  it('asks for an upload URL and POSTs a larger file there as multipart, after a rate-limiter slot', async () => {
    const callId = await portal.finishedCall();
    const file = await mp3Of(30);
    let slots = 0;
    const r = await attachRecordFile(deps(1000, { beforeRequest: async () => void slots++ }), { callId, file, fileName: 'call.mp3' });
    expect(r).toMatchObject({ mode: 'upload' });
    expect(slots).toBe(1);
    const [record] = portal.emu.records;
    expect(record).toMatchObject({ callId, fileName: 'call.mp3', mode: 'upload' });
    expect(Math.abs((await decodedSeconds(record!.bytes)) - 30)).toBeLessThan(0.2);
    const methods = portal.emu.requests.map((q) => q.restMethod);
    expect(methods.slice(-2)).toEqual(['telephony.externalcall.attachrecord', 'upload']);
  });

  it('attaches a WAV as it is, under a .wav name', async () => {
    const callId = await portal.finishedCall();
    await attachRecordFile(deps(0), { callId, file: FIXTURE_WAV, fileName: '1795263642.90.wav' });
    expect(portal.emu.records[0]).toMatchObject({ callId, fileName: '1795263642.90.wav', mode: 'upload' });
  });

  it('surfaces a 503 of the portal as a retryable BitrixError, then succeeds on the next attempt', async () => {
    const callId = await portal.finishedCall();
    const file = await mp3Of(1);
    portal.emu.faults.failNext(1, { status: 503, error: 'QUERY_LIMIT_EXCEEDED', error_description: 'Too many requests' });
    const err = await attachRecordFile(deps(1024 * 1024), { callId, file, fileName: 'call.mp3' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BitrixError);
    expect((err as BitrixError).kind).toBe('retryable');
    expect(portal.emu.records).toHaveLength(0);
    await attachRecordFile(deps(1024 * 1024), { callId, file, fileName: 'call.mp3' });
    expect(portal.emu.records).toHaveLength(1);
  });

  it('surfaces a portal that is down during the upload POST as retryable', async () => {
    const callId = await portal.finishedCall();
    const file = await mp3Of(1);
    // The first request (the upload URL) gets through; the POST meets a 503 maintenance page.
    const err = await attachRecordFile(
      deps(0, { beforeRequest: async () => portal.emu.faults.setDown(503) }),
      { callId, file, fileName: 'call.mp3' },
    ).catch((e: unknown) => e);
    portal.emu.faults.setUp();
    expect(err).toBeInstanceOf(BitrixError);
    expect(err).toMatchObject({ kind: 'retryable', method: 'upload', httpStatus: 503 });
  });

  it('surfaces a refused file as a fatal error the outbox parks', async () => {
    const callId = await portal.finishedCall();
    const err = await attachRecordFile(deps(1024 * 1024), { callId, file: FIXTURE_WAV, fileName: 'call.ogg' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'fatal', description: 'Wrong file extension. Only wav and mp3 are allowed' });
  });
});
