import { wavHeader } from '../test/support/wav.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocator } from '../src/recordings/locate.js';
import { findExecutable } from '../src/recordings/ffmpeg.js';
import { keepAudio } from '../src/transcripts/audio.js';
import { toMessages, type Segment } from '../src/transcripts/messages.js';
import { createSttClient } from '../src/transcripts/stt-client.js';
import { median, preciseNow } from './lib/stats.js';
import { notMeasured, row, type BenchOptions, type Row } from './lib/types.js';

/**
 * Item 11: transcripts (issue 18), the bridge's own overhead per call minute, the speech-to-text server's time left
 * out. A 10-minute two-channel call (8 kHz 16-bit, tones on both channels), written before any timing, through what
 * the bridge does for it:
 *  - hand-off: keepAudio (copy into the job's dir, ffmpeg splits the two channels into two mono WAVs; niceness 0);
 *  - requests: the real got multipart client sends each side to a server in another process that reads the whole
 *    upload and answers a canned verbose_json at once (60 segments per side-minute): what remains is the bridge
 *    streaming the audio and parsing the answer, wall and this process's CPU;
 *  - mapping: toMessages of both sides' segments.
 * Median of 3 runs (1 with --quick); per call minute = the 10-minute call's time / 10.
 */

const ITEM = '11 transcripts';
const MINUTES = 10;

const SERVER = `
import http from 'node:http';
const segments = Array.from({ length: ${60 * MINUTES} }, (_, i) => ({ id: i, start: i, end: i + 0.8, text: ' word word word word word' }));
const body = JSON.stringify({ task: 'transcribe', duration: ${60 * MINUTES}, text: '', segments });
const s = http.createServer((req, res) => { req.on('data', () => {}); req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(body)); });
s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));
`;

function startServer(): Promise<{ url: string; child: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.on('error', reject);
    child.stdout!.once('data', (d: Buffer) => resolve({ url: `http://127.0.0.1:${d.toString().trim()}/v1/audio/transcriptions`, child }));
  });
}

function stereoWav(path: string, seconds: number): void {
  const rate = 8000;
  const frames = seconds * rate;
  const data = Buffer.alloc(frames * 4);
  for (let i = 0; i < frames; i++) {
    data.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 440 * i) / rate) * 9000), i * 4);
    data.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 880 * i) / rate) * 9000), i * 4 + 2);
  }
  writeFileSync(path, Buffer.concat([wavHeader(data.length, { sampleRate: rate, channels: 2 }), data]));
}

export async function run(opts: BenchOptions): Promise<Row[]> {
  const ffmpeg = await findExecutable('ffmpeg');
  if (!ffmpeg) return [notMeasured(ITEM, 'overhead per call minute', '', 'ffmpeg not found (apt-get install ffmpeg)')];
  const dir = mkdtempSync(join(tmpdir(), 'b24-bench-tr-'));
  const { url, child } = await startServer();
  try {
    const source = join(dir, 'call.wav');
    stereoWav(source, MINUTES * 60);
    const transcribe = createSttClient({ url, model: 'bench', language: 'auto', timeoutMs: 120_000 });
    const rounds = opts.quick ? 1 : 3;
    const handOff: number[] = [];
    const requestWall: number[] = [];
    const requestCpu: number[] = [];
    const mapping: number[] = [];
    for (let r = 0; r < rounds; r++) {
      opts.log(`${ITEM}: round ${r + 1} of ${rounds}`);
      const jobDir = join(dir, `job-${r}`);
      let t = preciseNow();
      const audio = await keepAudio({ receiveSuffix: '-in', transmitSuffix: '-out', ffmpegPath: ffmpeg, timeoutMs: 120_000, nice: 0, removeSides: false }, { asteriskPath: source, localPath: source }, createLocator({ type: 'local' }), jobDir);
      handOff.push(preciseNow() - t);
      if (audio.kind !== 'pair') throw new Error('the two-channel file was not split');
      const cpu = process.cpuUsage();
      t = preciseNow();
      const sides: Array<{ side: 'Client' | 'User'; segments: Segment[] }> = [
        { side: 'Client', segments: await transcribe(audio.receive) },
        { side: 'User', segments: await transcribe(audio.transmit) },
      ];
      requestWall.push(preciseNow() - t);
      const used = process.cpuUsage(cpu);
      requestCpu.push((used.user + used.system) / 1000);
      t = preciseNow();
      const messages = toMessages(sides, MINUTES * 60);
      mapping.push(preciseNow() - t);
      if (messages.length !== 2 * 60 * MINUTES) throw new Error(`expected ${2 * 60 * MINUTES} messages, got ${messages.length}`);
      rmSync(jobDir, { recursive: true, force: true });
    }
    const per = (ms: number[]) => median(ms) / MINUTES;
    const total = per(handOff) + per(requestWall) + per(mapping);
    const note = `a ${MINUTES}-minute two-channel 8 kHz call, median of ${rounds}; the server (another process) answers at once, so its time is left out`;
    return [
      row(ITEM, 'hand-off: copy + ffmpeg split into two sides, per call minute', per(handOff), 'ms', undefined, note),
      row(ITEM, 'requests: both sides uploaded (got multipart) + answers parsed, per call minute', per(requestWall), 'ms'),
      row(ITEM, "requests: this process's CPU, per call minute", per(requestCpu), 'ms'),
      row(ITEM, 'segments -> MESSAGES (120 per call minute)', per(mapping), 'ms', undefined, undefined, 3),
      row(ITEM, "bridge's own overhead per call minute (sum)", total, 'ms'),
    ];
  } finally {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}
