import { spawn } from 'node:child_process';
import { chmod, chown, copyFile, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocator, UnreadableError, type Locator } from '../../src/recordings/locate.js';
import { attachEntry as entry, decodedSeconds, FIXTURE_WAV, pipelineHandler, sineWav, startPortal, tempDir, type HarnessOptions, type Portal } from './helpers.js';
import { wavHeader } from '../support/wav.js';

let portal: Portal;
let spool: string;
let tmp: string;
beforeEach(async () => {
  portal = await startPortal();
  spool = await tempDir('spool-');
  tmp = await tempDir('tmp-');
});
afterEach(async () => portal.close());

/** The real pipeline (locator, transcode, attach) in front of the emulated portal, work dir `tmp`. */
const harness = (opts: HarnessOptions = {}) => pipelineHandler(portal.client, tmp, opts);

/** Debian's nobody (and nogroup): a user with no access to a file only its owner may read. */
const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;
const CHILD = fileURLToPath(new URL('./attach-child.ts', import.meta.url));

interface ChildRun {
  uid: number;
  groups: number[];
  counts: ReturnType<typeof harness>['counts'];
  logs: Array<{ level: string; msg: string; reason?: string }>;
}

/** One attach by the real pipeline in a process of its own: as nobody when the tests run as root, else as the tests' user. */
function attachAsDaemonUser(path: string, callId: string): Promise<ChildRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, portal.emu.webhookUrl, tmp, path, callId], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // libuv drops the supplementary groups (root's) before it sets the ids, as setpriv --clear-groups does.
    ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as ChildRun) : reject(new Error(`attach-child exited ${code}: ${err}`))));
  });
}

async function recording(name: string, bytes?: Buffer): Promise<string> {
  const path = join(spool, name);
  if (bytes) await writeFile(path, bytes);
  else await copyFile(FIXTURE_WAV, path);
  return path;
}

describe('a recording through the pipeline (the failure table)', () => {
  it('attaches the real recording as an MP3 of the same duration, keeps the original and leaves no temp file', async () => {
    const { handler, counts } = harness();
    const callId = await portal.finishedCall();
    const path = await recording('1795263642.90.wav');
    await handler(entry(path), callId);
    expect(counts.attached).toEqual([{ format: 'mp3', mode: 'base64' }]);
    const [record] = portal.emu.records;
    expect(record).toMatchObject({ callId, fileName: '1795263642.90.mp3' });
    expect(Math.abs((await decodedSeconds(record!.bytes)) - 5.98)).toBeLessThan(0.2);
    expect((await stat(path)).size).toBeGreaterThan(0);
    expect(await readdir(tmp)).toEqual([]);
  });

  it('removes the original once attached when keepOriginals is false', async () => {
    const { handler } = harness({ keepOriginals: false });
    const path = await recording('a.wav');
    await handler(entry(path), await portal.finishedCall());
    expect(portal.emu.records).toHaveLength(1);
    await expect(stat(path)).rejects.toThrow();
  });

  it('waits for a file that appears late and is still being written', async () => {
    // Generous stableMs: the partial file must never look complete, however late the second write runs.
    const { handler, counts } = harness({ stableMs: 500 });
    const path = join(spool, 'late.wav');
    const full = sineWav(2);
    setTimeout(() => void writeFile(path, full.subarray(0, 8000)), 50);
    setTimeout(() => void writeFile(path, full), 100);
    await handler(entry(path), await portal.finishedCall());
    expect(counts.attached).toHaveLength(1);
    expect(Math.abs((await decodedSeconds(portal.emu.records[0]!.bytes)) - 2)).toBeLessThan(0.2);
  });

  it('reports a file that never appears after the appear timeout and resolves without attaching', async () => {
    const { handler, counts, logger } = harness();
    await handler(entry(join(spool, 'never.wav')), await portal.finishedCall());
    expect(counts.missing).toBe(1);
    expect(portal.emu.records).toEqual([]);
    expect(logger.lines.find((l) => l.level === 'warn')?.obj).toMatchObject({ linkedid: '1795263642.90', path: join(spool, 'never.wav') });
    expect(await readdir(tmp)).toEqual([]);
  });

  it.each([
    ['an empty file', Buffer.alloc(0)],
    ['a 44-byte WAV (a caller who was never connected)', wavHeader(0)],
  ])('attaches nothing for %s', async (_, bytes) => {
    const { handler, counts } = harness();
    await handler(entry(await recording('empty.wav', bytes)), await portal.finishedCall());
    expect(counts.empty).toBe(1);
    expect(counts.attached).toEqual([]);
    expect(portal.emu.records).toEqual([]);
  });

  it('logs ffmpeg’s error with the call and counts a corrupt file that is no valid WAV', async () => {
    const { handler, counts, logger } = harness();
    const callId = await portal.finishedCall();
    await handler(entry(await recording('junk.wav', Buffer.from('garbage, not audio\n'.repeat(50)))), callId);
    expect(counts.failed).toEqual(['corrupt']);
    expect(portal.emu.records).toEqual([]);
    const ffmpegError = logger.lines.find((l) => l.msg.includes('ffmpeg could not transcode'));
    expect(ffmpegError?.obj).toMatchObject({ linkedid: '1795263642.90', callId });
    expect((ffmpegError?.obj as { ffmpeg?: string }).ffmpeg).toMatch(/Invalid data/i);
  });

  it('counts a WAV in a codec neither ffmpeg nor a player knows as corrupt', async () => {
    const { handler, counts } = harness();
    const weird = Buffer.concat([wavHeader(16_000, { format: 0x1234 }), sineWav(1).subarray(44)]);
    await handler(entry(await recording('weird.wav', weird)), await portal.finishedCall());
    expect(counts.failed).toEqual(['corrupt']);
    expect(portal.emu.records).toEqual([]);
  });

  it('attaches a valid WAV as it is when ffmpeg fails on it (ffmpegPath points nowhere)', async () => {
    const { handler, counts, logger } = harness({ ffmpegPath: '/nonexistent/ffmpeg' });
    const callId = await portal.finishedCall();
    await handler(entry(await recording('1795263642.90.wav')), callId);
    expect(counts.attached).toEqual([{ format: 'wav', mode: 'base64' }]);
    expect(portal.emu.records[0]).toMatchObject({ callId, fileName: '1795263642.90.wav' });
    expect(portal.emu.records[0]!.bytes).toEqual(await readFile(FIXTURE_WAV));
    expect(logger.lines.some((l) => l.level === 'error' && l.msg.includes('ffmpeg'))).toBe(true);
  });

  it('attaches a valid WAV as it is when ffmpeg runs past its timeout', async () => {
    const slow = join(tmp, '..', `slow-ffmpeg-${process.pid}`);
    await writeFile(slow, `#!/bin/sh\nexec sleep 30\n`);
    await chmod(slow, 0o755);
    const { handler, counts } = harness({ ffmpegPath: slow, timeoutMs: 1000 });
    await handler(entry(await recording('a.wav')), await portal.finishedCall());
    expect(counts.attached).toEqual([{ format: 'wav', mode: 'base64' }]);
  });

  it('attaches a valid WAV as it is when there is no ffmpeg at all, and counts a non-WAV', async () => {
    const { handler, counts } = harness({ ffmpegPath: undefined });
    await handler(entry(await recording('a.wav')), await portal.finishedCall());
    expect(counts.attached).toEqual([{ format: 'wav', mode: 'base64' }]);
    await handler(entry(await recording('b.gsm', Buffer.alloc(3300, 0xd5))), await portal.finishedCall());
    expect(counts.failed).toEqual(['no-ffmpeg']);
    expect(portal.emu.records).toHaveLength(1);
  });

  it('counts a path outside the mounted directory as unlocatable', async () => {
    const { handler, counts } = harness({ locate: createLocator({ type: 'mount', rewrite: { from: '/var/spool/asterisk/monitor', to: spool } }) });
    await handler(entry('/srv/elsewhere/a.wav'), await portal.finishedCall());
    expect(counts.failed).toEqual(['unlocatable']);
  });

  it('reads the file through the mount rewrite', async () => {
    const { handler, counts } = harness({ locate: createLocator({ type: 'mount', rewrite: { from: '/var/spool/asterisk/monitor', to: spool } }) });
    await recording('1795263642.90.wav');
    await handler(entry('/var/spool/asterisk/monitor/1795263642.90.wav'), await portal.finishedCall());
    expect(counts.attached).toEqual([{ format: 'mp3', mode: 'base64' }]);
  });

  it('counts a file the daemon’s user may not read as unreadable, and attaches a readable one from the same place', async () => {
    const readable = await recording('1795263642.90.wav');
    const secret = await recording('secret.wav');
    await chmod(secret, 0o000);
    if (asRoot) {
      // Root reads anything: the daemon runs as nobody, who may enter the spool and write its work dir.
      await chmod(spool, 0o755);
      await chown(tmp, NOBODY, NOBODY);
    }
    const shown = await attachAsDaemonUser(readable, await portal.finishedCall());
    expect(shown.counts.attached).toEqual([{ format: 'mp3', mode: 'base64' }]);
    expect(portal.emu.records).toHaveLength(1);

    const denied = await attachAsDaemonUser(secret, await portal.finishedCall());
    expect(denied.uid).toBe(asRoot ? NOBODY : process.getuid?.());
    if (asRoot) expect(denied.groups).toEqual([NOBODY]);
    expect(denied.counts.failed).toEqual(['unreadable']);
    expect(denied.counts.attached).toEqual([]);
    expect(denied.logs).toContainEqual({ level: 'error', msg: 'recording: cannot read the file; call left without a record', reason: 'unreadable' });
    expect(portal.emu.records).toHaveLength(1);
  });

  it('counts a file the locator cannot read as unreadable, without retrying', async () => {
    const locate: Locator = () => ({
      where: '/var/spool/asterisk/monitor/a.wav',
      size: async () => 1000,
      localPath: async () => {
        throw new UnreadableError('cannot read /var/spool/asterisk/monitor/a.wav: EACCES');
      },
      removeOriginal: async () => undefined,
    });
    const { handler, counts } = harness({ locate });
    await handler(entry('/var/spool/asterisk/monitor/a.wav'), await portal.finishedCall());
    expect(counts.failed).toEqual(['unreadable']);
  });

  it('rejects with a retryable BitrixError when the portal answers 503, keeps only the prepared MP3, and the retry sends it without transcoding again', async () => {
    const { handler, counts } = harness({ keepOriginals: false });
    const callId = await portal.finishedCall();
    const path = await recording('a.wav');
    portal.emu.faults.failNext(1, { status: 503, error: 'QUERY_LIMIT_EXCEEDED', error_description: 'Too many requests' });
    await expect(handler(entry(path), callId)).rejects.toMatchObject({ name: 'BitrixError', kind: 'retryable' });
    expect(counts.attached).toEqual([]);
    // No scratch directory is left, only the file the next try sends; the original stays until it is delivered.
    expect(await readdir(tmp)).toEqual(['prepared-1-1795263642.90.mp3']);
    expect((await stat(path)).size).toBeGreaterThan(0);
    // The retry even finds it once the original is gone: it neither waits for, reads nor transcodes the WAV again.
    await copyFile(path, join(spool, 'moved-away.wav'));
    await rm(path);
    await handler({ ...entry(path), attempts: 1 }, callId);
    expect(counts.transcodes).toBe(1);
    expect(counts.attached).toEqual([{ format: 'mp3', mode: 'base64' }]);
    expect(portal.emu.records).toHaveLength(1);
    expect(Math.abs((await decodedSeconds(portal.emu.records[0]!.bytes)) - 5.98)).toBeLessThan(0.2);
    expect(await readdir(tmp)).toEqual([]);
  });

  it('keeps no prepared file once a try ends for good (delivered, parked or given up)', async () => {
    const { handler } = harness();
    const callId = await portal.finishedCall();
    portal.emu.faults.failNext(1, { status: 400, error: 'ERROR_CORE', error_description: 'bad' });
    await expect(handler(entry(await recording('a.wav')), callId)).rejects.toMatchObject({ name: 'BitrixError', kind: 'fatal' });
    expect(await readdir(tmp)).toEqual([]);
  });
});

describe('a recording that is still being written', () => {
  /** A file whose size never settles, backed by the real recording (what ffmpeg reads). */
  function growing(): { locate: Locator; removed: string[] } {
    let size = 1000;
    const removed: string[] = [];
    const locate: Locator = (path) => ({
      where: path,
      size: async () => (size += 320),
      localPath: async () => FIXTURE_WAV,
      removeOriginal: async () => void removed.push(path),
    });
    return { locate, removed };
  }

  it('is retried (TIMEOUT) while tries remain, then attached as recorded so far and counted as failed, its original left alone', async () => {
    const { locate, removed } = growing();
    const { handler, counts, logger } = harness({ locate, keepOriginals: false, growingMaxTries: 3 });
    const callId = await portal.finishedCall();
    const path = '/var/spool/asterisk/monitor/1795263642.90.wav';
    for (const attempts of [0, 1]) {
      await expect(handler({ ...entry(path), attempts }, callId)).rejects.toMatchObject({ kind: 'retryable', errorCode: 'TIMEOUT' });
    }
    expect(counts.transcodes).toBe(0);
    await handler({ ...entry(path), attempts: 2 }, callId);
    expect(counts.failed).toEqual(['growing']);
    expect(counts.attached).toEqual([{ format: 'mp3', mode: 'base64' }]);
    expect(portal.emu.records[0]).toMatchObject({ callId, fileName: '1795263642.90.mp3' });
    expect(removed).toEqual([]);
    expect(logger.lines.find((l) => l.msg.includes('still being written'))?.obj).toMatchObject({ linkedid: '1795263642.90', tries: 3 });
    expect(await readdir(tmp)).toEqual([]);
  });

  it('finishes without a record when what was recorded so far is unusable, counted once', async () => {
    const junk = await recording('junk.wav', Buffer.from('garbage, not audio\n'.repeat(50)));
    const locate: Locator = (path) => ({ ...growing().locate(path, tmp), localPath: async () => junk });
    const { handler, counts } = harness({ locate, growingMaxTries: 1 });
    await handler(entry('/var/spool/asterisk/monitor/x.wav'), await portal.finishedCall());
    expect(counts.failed).toEqual(['growing']);
    expect(portal.emu.records).toEqual([]);
    expect(await readdir(tmp)).toEqual([]);
  });
});
