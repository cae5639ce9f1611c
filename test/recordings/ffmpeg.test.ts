import { chmod, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ffmpegCheckLine, ffmpegVersion, findExecutable, findFfmpeg } from '../../src/recordings/ffmpeg.js';
import { FFMPEG, tempDir } from './helpers.js';

const noPackage = async () => {
  throw new Error('Cannot find package');
};

describe('finding ffmpeg', () => {
  it('reads the version of the real ffmpeg', async () => {
    expect(await ffmpegVersion(FFMPEG)).toMatch(/^\S+$/);
  });

  it('uses the configured path first and reports it as such', async () => {
    const r = await findFfmpeg({ configPath: FFMPEG, importPackage: noPackage });
    expect(r.ffmpeg).toMatchObject({ source: 'config', path: FFMPEG });
    expect(ffmpegCheckLine(r).line.startsWith(`PASS ffmpeg: ${FFMPEG} (from recordings.ffmpegPath), version `)).toBe(true);
  });

  it('does not fall back to another ffmpeg when the configured one is broken', async () => {
    const r = await findFfmpeg({ configPath: '/nonexistent/ffmpeg', env: { PATH: dirname(FFMPEG) }, importPackage: noPackage });
    expect(r.ffmpeg).toBeUndefined();
    expect(r.problems).toEqual(['config /nonexistent/ffmpeg: no such file']);
    const check = ffmpegCheckLine(r);
    expect(check.ok).toBe(false);
    expect(check.line).toMatch(/^FAIL ffmpeg: .*attached as WAV/);
  });

  it('finds ffmpeg on the system PATH', async () => {
    const r = await findFfmpeg({ env: { PATH: `/nonexistent:${dirname(FFMPEG)}` }, importPackage: noPackage });
    expect(r.ffmpeg).toMatchObject({ source: 'path', path: FFMPEG });
  });

  it('falls back to the binary of the @ffmpeg-installer/ffmpeg package when PATH has none', async () => {
    const r = await findFfmpeg({ env: { PATH: '/nonexistent' }, importPackage: async () => ({ default: { path: FFMPEG, version: 'x' } }) });
    expect(r.ffmpeg).toMatchObject({ source: 'npm', path: FFMPEG });
    expect(ffmpegCheckLine(r).line).toContain('npm @ffmpeg-installer/ffmpeg');
  });

  it('reports every place it looked when there is no ffmpeg at all', async () => {
    const r = await findFfmpeg({ env: { PATH: '/nonexistent' }, importPackage: noPackage });
    expect(r.ffmpeg).toBeUndefined();
    expect(r.problems).toEqual(['path: no ffmpeg on PATH', 'npm: @ffmpeg-installer/ffmpeg is not installed']);
  });

  it('rejects an executable that is not ffmpeg', async () => {
    const dir = await tempDir();
    const fake = join(dir, 'ffmpeg');
    await writeFile(fake, '#!/bin/sh\necho hello\n');
    await chmod(fake, 0o755);
    expect(await findExecutable('ffmpeg', { PATH: dir })).toBe(fake);
    const r = await findFfmpeg({ env: { PATH: dir }, importPackage: noPackage });
    expect(r.ffmpeg).toBeUndefined();
    expect(r.problems[0]).toMatch(/not an ffmpeg binary/);
  });
});
