import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, readdir, readFile, writeFile } from 'node:fs/promises';
import { getPriority } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TranscodeError, transcodeToMp3 } from '../../src/recordings/transcode.js';
import { waitFor } from '../support/wait.js';
import { decodedSeconds, FFMPEG, FIXTURE_WAV, tempDir } from './helpers.js';

/** The ffmpeg process itself: its command line, priority, timeout, the processes it leaves, its stderr. */

const opts = { bitrateKbps: 32, timeoutMs: 60_000, nice: 10, ffmpegPath: FFMPEG };

/** A shell script standing in for ffmpeg. */
async function fakeFfmpeg(dir: string, name: string, body: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\n${body}\n`);
  await chmod(path, 0o755);
  return path;
}

/** Running (a zombie waiting for its parent to reap it counts as gone). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function pidIn(file: string): Promise<number> {
  const pid = Number((await readFile(file, 'utf8')).trim());
  expect(pid).toBeGreaterThan(1);
  return pid;
}

/** A wrapper that does not exec: it starts a long sleep in the background (as a stuck ffmpeg) and waits for it. */
const hangingWrapper = (dir: string) => `echo $$ > ${dir}/wrapper.pid\necho "still working" >&2\nsleep 120 &\necho $! > ${dir}/sleep.pid\nwait`;

describe('the ffmpeg process', () => {
  it('is the command line fluent-ffmpeg generated, at the configured low CPU priority', async () => {
    const dir = await tempDir();
    const spy = await fakeFfmpeg(dir, 'spy-ffmpeg', `printf '%s\\n' "$@" > ${dir}/args\nnice > ${dir}/niceness\nexec ${FFMPEG} "$@"`);
    const out = join(dir, 'x.mp3');
    await transcodeToMp3(FIXTURE_WAV, out, { ...opts, ffmpegPath: spy, nice: 15 });
    const args = (await readFile(join(dir, 'args'), 'utf8')).split('\n').slice(0, -1);
    expect(args).toEqual(['-nostdin', '-i', FIXTURE_WAV, '-y', '-ac', '1', '-acodec', 'libmp3lame', '-b:a', '32k', '-vn', '-map_metadata', '-1', '-f', 'mp3', out]);
    // nice -n adds to the runner's own niceness.
    expect(Number(await readFile(join(dir, 'niceness'), 'utf8'))).toBe(Math.min(19, getPriority() + 15));
    expect(Math.abs((await decodedSeconds(out)) - 5.98)).toBeLessThan(0.2);
  });

  it('runs at the runner’s own priority with nice 0', async () => {
    const dir = await tempDir();
    const spy = await fakeFfmpeg(dir, 'spy-ffmpeg', `nice > ${dir}/niceness\nexec ${FFMPEG} "$@"`);
    await transcodeToMp3(FIXTURE_WAV, join(dir, 'x.mp3'), { ...opts, ffmpegPath: spy, nice: 0 });
    expect(Number(await readFile(join(dir, 'niceness'), 'utf8'))).toBe(getPriority());
  });

  it('passes file names to ffmpeg as they are, through no shell', async () => {
    const dir = await tempDir();
    const input = join(dir, `it's $(touch pwned) & "a;b" *.wav`);
    await writeFile(input, await readFile(FIXTURE_WAV));
    const out = join(dir, '`touch pwned2` $HOME.mp3');
    await transcodeToMp3(input, out, opts);
    expect(Math.abs((await decodedSeconds(out)) - 5.98)).toBeLessThan(0.2);
    expect((await readdir(dir)).sort()).toEqual([`\`touch pwned2\` $HOME.mp3`, `it's $(touch pwned) & "a;b" *.wav`]);
  });

  it('is killed, with everything it started, when it runs past the timeout', async () => {
    const dir = await tempDir();
    const stuck = await fakeFfmpeg(dir, 'stuck-ffmpeg', hangingWrapper(dir));
    const err = await transcodeToMp3(FIXTURE_WAV, join(dir, 'x.mp3'), { ...opts, ffmpegPath: stuck, timeoutMs: 1500 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TranscodeError);
    expect((err as TranscodeError).kind).toBe('timeout');
    expect((err as TranscodeError).message).toBe('ffmpeg timed out after 1500 ms');
    expect((err as TranscodeError).stderr).toBe('still working');
    // The wrapper (the process spawned) and the sleep it started in the background: its process group.
    const wrapper = await pidIn(join(dir, 'wrapper.pid'));
    const sleep = await pidIn(join(dir, 'sleep.pid'));
    await waitFor(() => !alive(wrapper) && !alive(sleep), 'the timed-out ffmpeg and its child to be gone', 5_000);
  });

  it('is killed when the daemon exits in the middle of a transcode', async () => {
    const dir = await tempDir();
    const stuck = await fakeFfmpeg(dir, 'stuck-ffmpeg', hangingWrapper(dir));
    const daemon = fork(new URL('./transcode-child.ts', import.meta.url).pathname, [FIXTURE_WAV, join(dir, 'x.mp3'), stuck], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const exited = new Promise<number | null>((resolve) => daemon.on('exit', resolve));
    await new Promise((resolve) => daemon.once('message', resolve));
    const sleep = await waitFor(() => readFileSync(join(dir, 'sleep.pid'), 'utf8').trim(), 'the fake ffmpeg to start', 10_000);
    const wrapper = await pidIn(join(dir, 'wrapper.pid'));
    expect(alive(wrapper) && alive(Number(sleep))).toBe(true);
    daemon.send('exit');
    expect(await exited).toBe(0);
    await waitFor(() => !alive(wrapper) && !alive(Number(sleep)), 'the ffmpeg of an exited daemon to be gone', 5_000);
  });

  it('keeps only the end of a flood on stderr, with the reason in the message', async () => {
    const dir = await tempDir();
    const noisy = await fakeFfmpeg(dir, 'noisy-ffmpeg', `{ head -c 3000000 /dev/zero | tr '\\0' 'x'; echo; seq 1 20000; echo "the real reason"; } >&2\nexit 1`);
    const err = await transcodeToMp3(FIXTURE_WAV, join(dir, 'x.mp3'), { ...opts, ffmpegPath: noisy }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TranscodeError);
    expect((err as TranscodeError).kind).toBe('failed');
    expect((err as TranscodeError).message).toBe('ffmpeg exited with code 1: the real reason');
    expect((err as TranscodeError).stderr).toBe(['19994', '19995', '19996', '19997', '19998', '19999', '20000', 'the real reason'].join('\n'));
  });

  it('fails, without hanging, when the ffmpeg binary does not exist (under nice and without)', async () => {
    const dir = await tempDir();
    const niced = await transcodeToMp3(FIXTURE_WAV, join(dir, 'x.mp3'), { ...opts, ffmpegPath: '/nonexistent/ffmpeg' }).catch((e: unknown) => e);
    expect(niced).toBeInstanceOf(TranscodeError);
    expect((niced as TranscodeError).kind).toBe('failed');
    expect((niced as TranscodeError).message).toMatch(/^ffmpeg exited with code 127: .*\/nonexistent\/ffmpeg.*No such file/);
    const bare = await transcodeToMp3(FIXTURE_WAV, join(dir, 'x.mp3'), { ...opts, nice: 0, ffmpegPath: '/nonexistent/ffmpeg' }).catch((e: unknown) => e);
    expect(bare).toBeInstanceOf(TranscodeError);
    expect((bare as TranscodeError).kind).toBe('failed');
    expect((bare as TranscodeError).message).toMatch(/^ffmpeg could not be started: .*ENOENT/);
  });
});
