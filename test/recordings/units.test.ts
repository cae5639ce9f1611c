import { describe, expect, it } from 'vitest';
import { recordingsConfigProblems, recordingsSchema } from '../../src/config/recordings.js';
import { createLimit } from '../../src/recordings/limit.js';
import { waitStable } from '../../src/recordings/wait-stable.js';
import { inspectWav, parseWav } from '../../src/recordings/wav.js';
import { FIXTURE_WAV, sineWav } from './helpers.js';
import { wavHeader } from '../support/wav.js';

describe('the recordings config section', () => {
  it('gives every default from an empty section', () => {
    const c = recordingsSchema.parse({});
    expect(c).toMatchObject({
      enabled: true,
      bitrateKbps: 32,
      concurrency: 1,
      nice: 10,
      stableMs: 1500,
      appearTimeoutMs: 60_000,
      minBytes: 45,
      inlineMaxBytes: 1024 * 1024,
      keepOriginals: true,
      growingMaxTries: 5,
      pathVariable: 'MIXMONITOR_FILENAME',
      source: { type: 'local', ari: { recordingDir: '/var/spool/asterisk/recording' } },
    });
    expect(c.ffmpegPath).toBeUndefined();
    // Unset: the work dir goes under state.dir, the daemon's own, never a temp dir another daemon may share.
    expect(c.tmpDir).toBeUndefined();
  });

  it('refuses a relative tmpDir and fewer than one try for a growing file', () => {
    expect(recordingsSchema.safeParse({ tmpDir: 'tmp' }).success).toBe(false);
    expect(recordingsSchema.safeParse({ growingMaxTries: 0 }).success).toBe(false);
    expect(recordingsSchema.parse({ growingMaxTries: 2 }).growingMaxTries).toBe(2);
  });

  it('refuses a bitrate outside 32..64 kbps, an unknown key and a mount without its rewrite', () => {
    expect(recordingsSchema.safeParse({ bitrateKbps: 128 }).success).toBe(false);
    expect(recordingsSchema.safeParse({ bitrate: 32 }).success).toBe(false);
    const mount = recordingsSchema.safeParse({ source: { type: 'mount' } });
    expect(mount.success).toBe(false);
    expect(JSON.stringify(mount.error?.issues)).toContain('rewrite');
    expect(recordingsSchema.safeParse({ source: { type: 'mount', rewrite: { from: '/var/spool/asterisk/monitor', to: '/mnt/pbx' } } }).success).toBe(true);
  });

  it('refuses a path variable that is not a variable name', () => {
    expect(recordingsSchema.safeParse({ pathVariable: 'CDR(recordingfile)' }).success).toBe(false);
    expect(recordingsSchema.parse({ pathVariable: 'RECORDING_PATH' }).pathVariable).toBe('RECORDING_PATH');
  });

  it('says ARI as a source needs asterisk.ari credentials', () => {
    const ari = recordingsSchema.parse({ source: { type: 'ari' } });
    expect(recordingsConfigProblems(ari, undefined)).toHaveLength(1);
    expect(recordingsConfigProblems(ari, { url: 'http://pbx:8088', username: 'u', password: 'p' })).toEqual([]);
  });
});

describe('reading a WAV header', () => {
  it('finds the audio of the real recording after its 44-byte header', async () => {
    const info = await inspectWav(FIXTURE_WAV);
    expect(info).toMatchObject({ ok: true, format: 1, channels: 1, sampleRate: 8000, bitsPerSample: 16, dataOffset: 44 });
    if (info.ok) expect(info.dataBytes / 2 / 8000).toBeCloseTo(5.98, 1);
  });

  it('sees a header-only WAV as valid with no audio', () => {
    expect(parseWav(wavHeader(0), 44)).toMatchObject({ ok: true, dataBytes: 0 });
  });

  it('trusts the real file size over a length field the recorder never updated', () => {
    const wav = sineWav(1);
    expect(parseWav(Buffer.concat([wavHeader(0), wav.subarray(44)]), wav.length)).toMatchObject({ ok: true, dataBytes: 16_000 });
  });

  it('skips other chunks (LIST) before the data', () => {
    const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([5, 0, 0, 0]), Buffer.from('INFOx'), Buffer.from([0])]);
    const h = wavHeader(100);
    const wav = Buffer.concat([h.subarray(0, 36), list, h.subarray(36), Buffer.alloc(100)]);
    expect(parseWav(wav, wav.length)).toMatchObject({ ok: true, dataOffset: 36 + list.length + 8, dataBytes: 100 });
  });

  it('rejects garbage, a truncated header and a codec nobody can play', () => {
    expect(parseWav(Buffer.from('this is not audio at all, just text'), 35)).toMatchObject({ ok: false });
    expect(parseWav(wavHeader(0).subarray(0, 30), 30)).toMatchObject({ ok: false });
    expect(parseWav(wavHeader(0, { format: 0x1234 }), 44)).toEqual({ ok: false, reason: 'unsupported codec 0x1234' });
  });
});

/** A fake clock that moves only when the code sleeps. */
function fakeTime() {
  let now = 0;
  return { clock: () => now, sleep: async (ms: number) => void (now += ms) };
}

describe('waiting for a recording to be complete', () => {
  it('returns the size once it stayed the same for stableMs', async () => {
    const sizes = [undefined, 100, 200, 300, 300, 300, 300, 300];
    let i = 0;
    const r = await waitStable({ size: async () => sizes[Math.min(i++, sizes.length - 1)], stableMs: 1000, appearTimeoutMs: 10_000, pollMs: 500, ...fakeTime() });
    expect(r).toEqual({ status: 'stable', size: 300 });
    expect(i).toBe(6);
  });

  it('reports a file that never appears after appearTimeoutMs', async () => {
    const r = await waitStable({ size: async () => undefined, stableMs: 1000, appearTimeoutMs: 5000, pollMs: 500, ...fakeTime() });
    expect(r).toEqual({ status: 'missing', waitedMs: 5000 });
  });

  it('gives up on a file that keeps growing', async () => {
    let size = 0;
    const r = await waitStable({ size: async () => (size += 10), stableMs: 1000, appearTimeoutMs: 2000, pollMs: 500, ...fakeTime() });
    expect(r.status).toBe('growing');
  });

  it('takes a file as it is at once when stableMs is 0', async () => {
    const r = await waitStable({ size: async () => 44, stableMs: 0, appearTimeoutMs: 0, ...fakeTime() });
    expect(r).toEqual({ status: 'stable', size: 44 });
  });
});

describe('the transcode limit', () => {
  it('never runs more than n tasks at once and runs them all', async () => {
    const limit = createLimit(2);
    let running = 0;
    let peak = 0;
    const task = async (v: number) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      return v;
    };
    const results = await Promise.all([1, 2, 3, 4, 5].map((v) => limit(() => task(v))));
    expect(results).toEqual([1, 2, 3, 4, 5]);
    expect(peak).toBe(2);
  });

  it('frees the slot of a task that failed', async () => {
    const limit = createLimit(1);
    await expect(limit(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await limit(async () => 'next')).toBe('next');
  });
});
