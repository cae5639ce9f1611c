import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { TranscodeError, transcodeToMp3 } from '../../src/recordings/transcode.js';
import { inspectWav } from '../../src/recordings/wav.js';
import { decodedSeconds, FFMPEG, FFPROBE, FIXTURE_WAV, sineWav, tempDir, writeTemp } from './helpers.js';

const opts = { bitrateKbps: 32, timeoutMs: 60_000, nice: 10, ffmpegPath: FFMPEG };
const run = promisify(execFile);

/** The source's duration from its header: what the MP3 must match. */
async function wavSeconds(path: string): Promise<number> {
  const info = await inspectWav(path);
  if (!info.ok) throw new Error(info.reason);
  return info.dataBytes / (info.bitsPerSample / 8) / info.channels / info.sampleRate;
}

interface Probe {
  streams: Array<{ codec_type: string; codec_name: string; channels: number; sample_rate: string; bit_rate: string }>;
  format: { format_name: string; tags?: Record<string, string> };
}

async function probe(path: string): Promise<Probe> {
  const { stdout } = await run(FFPROBE, ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name,channels,sample_rate,bit_rate:format=format_name:format_tags', '-of', 'json', path]);
  return JSON.parse(stdout) as Probe;
}

describe('transcoding a recording to MP3 with the real ffmpeg', () => {
  it('turns the real 5.98 s call recording into a mono MP3 of the same duration', async () => {
    const out = join(await tempDir(), 'call.mp3');
    await transcodeToMp3(FIXTURE_WAV, out, opts);
    const mp3 = await readFile(out);
    // An MPEG audio frame sync or an ID3 tag at the start.
    expect(mp3.subarray(0, 3).toString('latin1') === 'ID3' || (mp3[0] === 0xff && (mp3[1]! & 0xe0) === 0xe0)).toBe(true);
    expect(Math.abs((await decodedSeconds(out)) - 5.98)).toBeLessThan(0.2);
    expect(Math.abs((await decodedSeconds(out)) - (await wavSeconds(FIXTURE_WAV)))).toBeLessThan(0.2);
  });

  it('makes the MP3 fluent-ffmpeg made: one MP3 audio stream, mono, at the bitrate and the source’s sample rate, no tags but the encoder', async () => {
    const out = join(await tempDir(), 'call.mp3');
    await transcodeToMp3(FIXTURE_WAV, out, opts);
    const p = await probe(out);
    expect(p.format.format_name).toBe('mp3');
    expect(p.streams).toEqual([{ codec_type: 'audio', codec_name: 'mp3', channels: 1, sample_rate: '8000', bit_rate: '32000' }]);
    // -map_metadata -1: ffmpeg's own encoder tag only.
    expect(Object.keys(p.format.tags ?? {})).toEqual(['encoder']);
    // 32 kbps × 5.98 s ≈ 24 kB (the same 25 101 bytes, byte for byte, as fluent-ffmpeg's output with Debian's ffmpeg 5.1).
    expect((await stat(out)).size).toBeGreaterThan(23_000);
    expect((await stat(out)).size).toBeLessThan(27_000);
  });

  it('drops the tags a WAV carries', async () => {
    const dir = await tempDir();
    const tagged = join(dir, 'tagged.wav');
    await run(FFMPEG, ['-v', 'error', '-f', 'lavfi', '-i', 'sine=f=440:d=2:r=8000', '-metadata', 'title=Call with a client', '-metadata', 'artist=101', tagged]);
    const out = join(dir, 'tagged.mp3');
    await transcodeToMp3(tagged, out, opts);
    expect(Object.keys((await probe(out)).format.tags ?? {})).toEqual(['encoder']);
    expect(Math.abs((await decodedSeconds(out)) - 2)).toBeLessThan(0.2);
  });

  it.each([1, 30])('keeps a generated %i s recording within 0.2 s of its length', async (seconds) => {
    const dir = await tempDir();
    const wav = await writeTemp(dir, `${seconds}.wav`, sineWav(seconds));
    await transcodeToMp3(wav, join(dir, 'out.mp3'), opts);
    expect(Math.abs((await decodedSeconds(join(dir, 'out.mp3'))) - seconds)).toBeLessThan(0.2);
  });

  it('transcodes a 10-minute recording to about a quarter of a megabyte per minute at 32 kbps', { timeout: 120_000 }, async () => {
    const dir = await tempDir();
    const wav = await writeTemp(dir, 'long.wav', sineWav(600));
    const out = join(dir, 'long.mp3');
    await transcodeToMp3(wav, out, { ...opts, timeoutMs: 110_000 });
    expect(Math.abs((await decodedSeconds(out)) - 600)).toBeLessThan(0.2);
    // 32 kbps × 600 s = 2.4 MB, against 9.6 MB of WAV.
    expect((await stat(out)).size).toBeGreaterThan(2_200_000);
    expect((await stat(out)).size).toBeLessThan(2_600_000);
  });

  it('downmixes a stereo 16 kHz source to mono at the configured bitrate', async () => {
    const dir = await tempDir();
    const stereo = join(dir, 'stereo.wav');
    await run(FFMPEG, ['-v', 'error', '-f', 'lavfi', '-i', 'sine=f=440:d=3:r=16000', '-ac', '2', stereo]);
    const out = join(dir, 'mono.mp3');
    await transcodeToMp3(stereo, out, { ...opts, bitrateKbps: 64 });
    expect((await probe(out)).streams).toEqual([{ codec_type: 'audio', codec_name: 'mp3', channels: 1, sample_rate: '16000', bit_rate: '64000' }]);
    expect(Math.abs((await decodedSeconds(out)) - 3)).toBeLessThan(0.2);
  });

  it('fails with ffmpeg’s own words on a file that is not audio', async () => {
    const dir = await tempDir();
    const junk = await writeTemp(dir, 'junk.wav', Buffer.from('this is not audio, only text pretending to be a WAV file\n'.repeat(20)));
    const err = await transcodeToMp3(junk, join(dir, 'x.mp3'), opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TranscodeError);
    expect((err as TranscodeError).kind).toBe('failed');
    expect((err as TranscodeError).message).toMatch(/^ffmpeg exited with code 1: .*Invalid data/);
    expect((err as TranscodeError).stderr).toMatch(/Invalid data|could not find codec|unknown/i);
  });
});
