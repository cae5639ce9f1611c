import { wavHeader } from './wav.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { parseWav } from '../../src/recordings/wav.js';

/**
 * A fake OpenAI-compatible speech-to-text server (`POST /v1/audio/transcriptions`) for the transcripts tests. It
 * "hears" the audio it is sent: every span of the WAV where a tone sounds becomes a segment whose text names the
 * tone's pitch ("tone 440 Hz"), so a test that checks who said what depends on the audio the bridge really sent.
 * Modes make it fail: 500s, answers that never come (the client's timeout), slow answers, and down (the port
 * closed: connection refused).
 */

export type SttMode = { kind: 'ok' } | { kind: 'error'; status: number } | { kind: 'hang' } | { kind: 'slow'; ms: number };

export interface SttRequest {
  at: number;
  fields: Record<string, string[]>;
  fileName: string;
  fileBytes: number;
  authorization: string | undefined;
  /** What the server answered: a status, or 0 when it never answered. */
  status: number;
}

export interface FakeSttServer {
  /** http://127.0.0.1:<port>/v1/audio/transcriptions */
  readonly url: string;
  readonly requests: SttRequest[];
  mode: SttMode;
  /** Closes the port (connection refused) until up(). */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startSttServer(): Promise<FakeSttServer> {
  const requests: SttRequest[] = [];
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const state: { mode: SttMode } = { mode: { kind: 'ok' } };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const record: SttRequest = { at: Date.now(), fields: {}, fileName: '', fileBytes: 0, authorization: req.headers.authorization, status: 0 };
    requests.push(record);
    const answer = (status: number, body: unknown) => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.method !== 'POST' || req.url !== '/v1/audio/transcriptions') return answer(404, { error: { message: 'not found' } });
    const form = await new Response(Buffer.concat(chunks), { headers: { 'content-type': req.headers['content-type'] ?? '' } }).formData().catch(() => undefined);
    if (!form) return answer(400, { error: { message: 'expected multipart/form-data' } });
    let audio: Buffer | undefined;
    for (const [name, value] of form.entries()) {
      if (typeof value === 'string') (record.fields[name] ??= []).push(value);
      else {
        audio = Buffer.from(await value.arrayBuffer());
        record.fileName = value.name;
        record.fileBytes = audio.length;
      }
    }
    const mode = state.mode;
    if (mode.kind === 'hang') return; // never answers; the socket is destroyed at close
    if (mode.kind === 'error') return answer(mode.status, { error: { message: 'the model crashed' } });
    if (mode.kind === 'slow') await new Promise((r) => setTimeout(r, mode.ms));
    if (!audio || !record.fields['model']?.[0]) return answer(400, { error: { message: 'file and model are required' } });
    const heard = hear(audio);
    if (!heard) return answer(400, { error: { message: 'cannot decode the audio (16-bit PCM WAV expected)' } });
    answer(200, { task: 'transcribe', language: record.fields['language']?.[0] ?? 'en', duration: heard.duration, text: heard.segments.map((s) => s.text).join(' '), segments: heard.segments });
  };

  const listen = async (): Promise<void> => {
    server = createServer((req, res) => void handle(req, res).catch(() => res.destroy()));
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  };
  const stop = async (): Promise<void> => {
    const s = server;
    server = undefined;
    if (!s) return;
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await listen();

  return {
    get url() {
      return `http://127.0.0.1:${port}/v1/audio/transcriptions`;
    },
    requests,
    get mode() {
      return state.mode;
    },
    set mode(m: SttMode) {
      state.mode = m;
    },
    down: stop,
    up: listen,
    close: stop,
  };
}

/** 50 ms windows; a window louder than this (RMS of 16-bit samples) is sound. */
const WINDOW_S = 0.05;
const LOUD_RMS = 1500;

/** The tone spans of a 16-bit PCM WAV (channels averaged), each with its pitch from zero crossings. */
export function hear(wav: Buffer): { duration: number; segments: Array<{ id: number; start: number; end: number; text: string }> } | undefined {
  const info = parseWav(wav.subarray(0, 64 * 1024), wav.length);
  // PCM, plain or WAVE_FORMAT_EXTENSIBLE (what ffmpeg writes for some channel layouts).
  if (!info.ok || (info.format !== 1 && info.format !== 0xfffe) || info.bitsPerSample !== 16) return undefined;
  const frames = Math.floor(Math.min(info.dataBytes, wav.length - info.dataOffset) / (2 * info.channels));
  const sample = (i: number) => {
    let sum = 0;
    for (let c = 0; c < info.channels; c++) sum += wav.readInt16LE(info.dataOffset + (i * info.channels + c) * 2);
    return sum / info.channels;
  };
  const win = Math.max(1, Math.round(WINDOW_S * info.sampleRate));
  const segments: Array<{ id: number; start: number; end: number; text: string }> = [];
  let spanStart: number | undefined;
  /** Each loud window's pitch: the span's is their median (its edge windows are part silence and read low). */
  let rates: number[] = [];
  const close = (endFrame: number) => {
    if (spanStart === undefined) return;
    const sorted = [...rates].sort((a, b) => a - b);
    const hz = Math.round(sorted[Math.floor(sorted.length / 2)]! / 10) * 10;
    segments.push({ id: segments.length, start: round(spanStart / info.sampleRate), end: round(endFrame / info.sampleRate), text: ` tone ${hz} Hz` });
    spanStart = undefined;
  };
  let prev = frames > 0 ? sample(0) : 0;
  for (let w = 0; w + win <= frames; w += win) {
    let energy = 0;
    let crossings = 0;
    for (let i = w; i < w + win; i++) {
      const s = sample(i);
      energy += s * s;
      if ((prev < 0 && s >= 0) || (prev >= 0 && s < 0)) crossings++;
      prev = s;
    }
    const loud = Math.sqrt(energy / win) > LOUD_RMS;
    if (loud && spanStart === undefined) {
      spanStart = w;
      rates = [];
    }
    if (loud) rates.push(crossings / 2 / (win / info.sampleRate));
    if (!loud) close(w);
  }
  close(frames - (frames % win));
  return { duration: round(frames / info.sampleRate), segments };
}

const round = (s: number) => Math.round(s * 100) / 100;

/**
 * A 16-bit PCM WAV of `seconds`, with tones in the given spans, per channel (one list: mono; two: stereo, channel 0
 * first). What the fake server hears back.
 */
export function toneWav(seconds: number, channels: ReadonlyArray<ReadonlyArray<{ from: number; to: number; hz: number }>>, sampleRate = 8000): Buffer {
  const frames = Math.round(seconds * sampleRate);
  const n = channels.length;
  const data = Buffer.alloc(frames * n * 2);
  for (let c = 0; c < n; c++) {
    for (const tone of channels[c]!) {
      for (let i = Math.round(tone.from * sampleRate); i < Math.min(frames, Math.round(tone.to * sampleRate)); i++) {
        data.writeInt16LE(Math.round(Math.sin((2 * Math.PI * tone.hz * i) / sampleRate) * 10_000), (i * n + c) * 2);
      }
    }
  }
  return Buffer.concat([wavHeader(data.length, { sampleRate, channels: n }), data]);
}
