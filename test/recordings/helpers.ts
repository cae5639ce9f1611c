/** Shared helpers for the recordings tests: real WAVs, real decoding, a portal with a finished call. */
import { wavHeader } from '../support/wav.js';
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBitrixClient, type BitrixClient } from '../../src/bitrix/client.js';
import { LeakyBucket } from '../../src/bitrix/limiter.js';
import type { OutboxEntry } from '../../src/bitrix/outbox-entry.js';
import { recordingsSchema } from '../../src/config/recordings.js';
import { attachRecordFile } from '../../src/recordings/attach.js';
import { findExecutable } from '../../src/recordings/ffmpeg.js';
import { createLimit } from '../../src/recordings/limit.js';
import { createLocator, type Locator } from '../../src/recordings/locate.js';
import { createAttachHandler, type FailureReason } from '../../src/recordings/pipeline.js';
import { transcodeToMp3 } from '../../src/recordings/transcode.js';
import { startBitrixEmulator, type BitrixEmulator } from '../../src/sim/bitrix-emulator.js';

// The tests transcode and decode for real: ffmpeg (with ffprobe) must be installed (apt-get install ffmpeg).
export const FFMPEG = (await findExecutable('ffmpeg')) ?? '/usr/bin/ffmpeg';
export const FFPROBE = (await findExecutable('ffprobe')) ?? '/usr/bin/ffprobe';
export const FIXTURE_WAV = new URL('../fixtures/recordings/1795263642.90.wav', import.meta.url).pathname;

/** A PCM WAV: 16-bit mono sine tones (a few alternating pitches, like speech turns), 8 kHz by default. */
export function sineWav(seconds: number, sampleRate = 8000): Buffer {
  const samples = Math.round(seconds * sampleRate);
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) {
    const t = i / sampleRate;
    const freq = [440, 660, 523][Math.floor(t / 2) % 3]!;
    data.writeInt16LE(Math.round(Math.sin(2 * Math.PI * freq * t) * 12_000), i * 2);
  }
  return Buffer.concat([wavHeader(data.length, { sampleRate }), data]);
}


export async function tempDir(prefix = 'rec-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function writeTemp(dir: string, name: string, bytes: Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

/** Decodes audio (a path or bytes) with ffmpeg to 8 kHz mono PCM and returns its duration in seconds. */
export function decodedSeconds(input: string | Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const args = ['-v', 'error', '-i', typeof input === 'string' ? input : 'pipe:0', '-f', 's16le', '-ac', '1', '-ar', '8000', 'pipe:1'];
    const child = spawn(FFMPEG, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let bytes = 0;
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (bytes += c.length));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(bytes / 2 / 8000) : reject(new Error(`ffmpeg could not decode: ${stderr}`))));
    child.stdin.on('error', () => undefined);
    if (typeof input === 'string') child.stdin.end();
    else child.stdin.end(input);
  });
}

export interface LogLine {
  level: string;
  obj: object;
  msg: string;
}

/** A logger that keeps what it was told, so tests can check a failure was reported with its call. */
export function memoryLogger() {
  const lines: LogLine[] = [];
  const at = (level: string) => (obj: object, msg: string) => void lines.push({ level, obj, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export interface HarnessOptions {
  ffmpegPath?: string | undefined;
  keepOriginals?: boolean;
  locate?: Locator;
  timeoutMs?: number;
  stableMs?: number;
  growingMaxTries?: number;
}

/** The real pipeline (local files unless `locate` says otherwise, the real ffmpeg, uploads to `client`), counted. */
export function pipelineHandler(client: Pick<BitrixClient, 'call'>, workDir: string, opts: HarnessOptions = {}) {
  const logger = memoryLogger();
  const counts = { attached: [] as Array<{ format: string; mode: string }>, failed: [] as FailureReason[], missing: 0, empty: 0, transcodes: 0 };
  const settings = recordingsSchema.parse({
    stableMs: opts.stableMs ?? 60,
    appearTimeoutMs: 300,
    transcodeTimeoutMs: opts.timeoutMs ?? 60_000,
    tmpDir: workDir,
    keepOriginals: opts.keepOriginals ?? true,
    growingMaxTries: opts.growingMaxTries ?? 5,
  });
  const handler = createAttachHandler({
    settings,
    workDir,
    locate: opts.locate ?? createLocator({ type: 'local' }),
    ffmpegPath: 'ffmpegPath' in opts ? opts.ffmpegPath : FFMPEG,
    transcode: (input, output, o) => (counts.transcodes++, transcodeToMp3(input, output, o)),
    attach: (req) => attachRecordFile({ client, inlineMaxBytes: settings.inlineMaxBytes, timeoutMs: 10_000 }, req),
    limit: createLimit(1),
    logger,
    hooks: {
      onAttached: (i) => void counts.attached.push({ format: i.format, mode: i.mode }),
      onFailed: (r) => void counts.failed.push(r),
      onMissing: () => void counts.missing++,
      onEmpty: () => void counts.empty++,
    },
  });
  return { handler, logger, counts };
}

export interface Portal {
  emu: BitrixEmulator;
  client: BitrixClient;
  /** Registers and finishes a call, as the outbox would before an attach; returns its CALL_ID. */
  finishedCall(): Promise<string>;
  close(): Promise<void>;
}

/** A client of the emulated portal with no rate limit of its own. */
export function portalClient(webhookUrl: string): BitrixClient {
  return createBitrixClient({ webhookUrl, limiter: new LeakyBucket({ perSecond: 1000, burst: 10_000 }), timeoutMs: 10_000 });
}

export async function startPortal(): Promise<Portal> {
  const emu = await startBitrixEmulator({
    rateLimit: false,
    users: [
      { ID: 1, NAME: 'Admin', ACTIVE: true, ADMIN: true },
      { ID: 11, NAME: 'Agent', LAST_NAME: 'One', ACTIVE: true, UF_PHONE_INNER: '101' },
      { ID: 12, NAME: 'Agent', LAST_NAME: 'Two', ACTIVE: true, UF_PHONE_INNER: '102' },
      { ID: 13, NAME: 'Agent', LAST_NAME: 'Three', ACTIVE: true, UF_PHONE_INNER: '103' },
    ],
  });
  const client = portalClient(emu.webhookUrl);
  let n = 0;
  return {
    emu,
    client,
    async finishedCall() {
      n++;
      const reg = await client.call<{ CALL_ID: string }>('telephony.externalcall.register', {
        USER_ID: 11,
        PHONE_NUMBER: `555800${n}`,
        TYPE: 2,
        CRM_CREATE: 0,
        SHOW: 0,
        EXTERNAL_CALL_ID: `test.${n}`,
      });
      await client.call('telephony.externalcall.finish', { CALL_ID: reg.CALL_ID, USER_ID: 11, DURATION: 6, STATUS_CODE: '200', ADD_TO_CHAT: 0 });
      return reg.CALL_ID;
    },
    close: () => emu.close(),
  };
}

/** The outbox entry the runtime enqueues for a call's recording. */
export const attachEntry = (path: string, key = '1795263642.90'): OutboxEntry => ({
  seq: 1,
  key,
  kind: 'attach',
  method: 'telephony.externalCall.attachRecord',
  params: { path, endedAt: Date.now() },
  needsCallId: true,
  attempts: 0,
  notBefore: 0,
  createdAt: Date.now(),
});
