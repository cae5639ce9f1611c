import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { getPriority } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TranscodeError, transcodeToMp3 } from '../../src/recordings/transcode.js';
import { inspectWav } from '../../src/recordings/wav.js';
import { decodedSeconds, FFMPEG, FFPROBE, FIXTURE_WAV, sineWav, tempDir, writeTemp } from './helpers.js';

const opts = { bitrateKbps: 32, timeoutMs: 60_000, nice: 10, ffmpegPath: FFMPEG };

/** The source's duration from its header: what the MP3 must match. */
async function wavSeconds(path: string): Promise<number> {
  const info = await inspectWav(path);
  if (!info.ok) throw new Error(info.reason);
  return info.dataBytes / (info.bitsPerSample / 8) / info.channels / info.sampleRate;
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
    const { execFile } = await import('node:child_process');
    await new Promise<void>((resolve, reject) =>
      execFile(FFMPEG, ['-v', 'error', '-f', 'lavfi', '-i', 'sine=f=440:d=3:r=16000', '-ac', '2', stereo], (e) => (e ? reject(e) : resolve())),
    );
    const out = join(dir, 'mono.mp3');
    await transcodeToMp3(stereo, out, { ...opts, bitrateKbps: 64 });
    const probe = await new Promise<string>((resolve, reject) =>
      execFile(FFPROBE, ['-v', 'error', '-show_entries', 'stream=channels,bit_rate', '-of', 'csv=p=0', out], (e, so) => (e ? reject(e) : resolve(so.trim()))),
    );
    expect(probe).toBe('1,64000');
  });

  it('fails with ffmpeg’s own words on a file that is not audio', async () => {
    const dir = await tempDir();
    const junk = await writeTemp(dir, 'junk.wav', Buffer.from('this is not audio, only text pretending to be a WAV file\n'.repeat(20)));
    const err = await transcodeToMp3(junk, join(dir, 'x.mp3'), opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TranscodeError);
    expect((err as TranscodeError).kind).toBe('failed');
    expect((err as TranscodeError).stderr).toMatch(/Invalid data|could not find codec|unknown/i);
  });

  it('fails, without hanging, when the ffmpeg binary does not exist', async () => {
    const dir = await tempDir();
    const err = await transcodeToMp3(FIXTURE_WAV, join(dir, 'x.mp3'), { ...opts, ffmpegPath: '/nonexistent/ffmpeg' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TranscodeError);
  });

  it('runs ffmpeg at the configured low CPU priority', async () => {
    const dir = await tempDir();
    const spy = join(dir, 'spy-ffmpeg');
    // Notes its own niceness when it does the real work, then is ffmpeg.
    await writeFile(spy, `#!/bin/sh\ncase "$*" in *" -i "*) nice > ${dir}/niceness;; esac\nexec ${FFMPEG} "$@"\n`);
    await chmod(spy, 0o755);
    await transcodeToMp3(FIXTURE_WAV, join(dir, 'x.mp3'), { ...opts, ffmpegPath: spy, nice: 15 });
    // nice -n adds to the runner's own niceness.
    expect(Number(await readFile(join(dir, 'niceness'), 'utf8'))).toBe(Math.min(19, getPriority() + 15));
  });

  it('kills an ffmpeg that runs past the timeout', async () => {
    const dir = await tempDir();
    // Answers fluent-ffmpeg's capability probes like ffmpeg, then hangs on the real work.
    const slow = join(dir, 'slow-ffmpeg');
    await writeFile(slow, `#!/bin/sh\ncase "$*" in *" -i "*) exec sleep 30;; *) exec ${FFMPEG} "$@";; esac\n`);
    await chmod(slow, 0o755);
    const err = await transcodeToMp3(FIXTURE_WAV, join(dir, 'x.mp3'), { ...opts, ffmpegPath: slow, timeoutMs: 1500 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TranscodeError);
    expect((err as TranscodeError).kind).toBe('timeout');
  });
});
