import { spawn, type ChildProcess } from 'node:child_process';
import { findExecutable } from './ffmpeg.js';

/**
 * Recording in, mono MP3 out, at low CPU priority, killed on timeout: one fixed ffmpeg command line, spawned
 * without a shell. (fluent-ffmpeg, which generated this same line, was archived upstream in May 2025; its
 * maintainer's advice for a program that runs one operation again and again is to write the line itself:
 * https://github.com/fluent-ffmpeg/node-fluent-ffmpeg/issues/1324.)
 *
 * ffmpeg runs in a process group of its own, so a timeout kills whatever the configured binary started (a wrapper
 * script's ffmpeg too), and the ffmpegs still running when the daemon exits are killed with it.
 */

export interface TranscodeOptions {
  bitrateKbps: number;
  timeoutMs: number;
  /** Niceness 0..19; applied through `nice -n` when `nice` is on PATH. */
  nice: number;
  ffmpegPath: string;
}

export class TranscodeError extends Error {
  constructor(
    message: string,
    readonly kind: 'timeout' | 'failed',
    /** The last lines ffmpeg printed: the reason, for the log. */
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'TranscodeError';
  }
}

const STDERR_TAIL_LINES = 8;
/** What is kept of ffmpeg's stderr (its banner, progress and errors): enough for the last lines, bounded. */
const STDERR_KEEP_CHARS = 16 * 1024;

/** ffmpeg's arguments: read the input, overwrite the output, one channel, LAME at the bitrate, no video, no tags. */
function mp3Arguments(input: string, output: string, bitrateKbps: number): string[] {
  return [
    '-nostdin',
    '-i', input,
    '-y',
    '-ac', '1',
    '-acodec', 'libmp3lame',
    '-b:a', `${bitrateKbps}k`,
    '-vn',
    // Drop tags and any cover art a WAV may carry; Bitrix24 plays the audio only.
    '-map_metadata', '-1',
    '-f', 'mp3',
    output,
  ];
}

export async function transcodeToMp3(input: string, output: string, opts: TranscodeOptions): Promise<void> {
  await runFfmpeg(mp3Arguments(input, output, opts.bitrateKbps), opts);
}

/** One ffmpeg run with these arguments, niced, in its own process group, killed on timeout (also transcripts' channel split). */
export async function runFfmpeg(args: string[], opts: Omit<TranscodeOptions, 'bitrateKbps'>): Promise<void> {
  const nice = opts.nice > 0 ? await findExecutable('nice') : undefined;
  const [command, argv] = nice ? [nice, ['-n', String(opts.nice), opts.ffmpegPath, ...args]] : [opts.ffmpegPath, args];

  await new Promise<void>((resolve, reject) => {
    let stderr = '';
    let timedOut = false;
    let settled = false;
    const settle = (err?: TranscodeError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    };

    // detached: a process group (and session) of its own, which a timeout or the daemon's exit kills whole.
    const child = spawn(command, argv, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    track(child);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.length > 2 * STDERR_KEEP_CHARS) stderr = stderr.slice(-STDERR_KEEP_CHARS);
    });

    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
      // Gone already, its stderr still held open by something it left: no 'exit' is coming.
      if (child.exitCode !== null || child.signalCode !== null) settle(timeoutError());
    }, opts.timeoutMs);
    const timeoutError = () => new TranscodeError(`ffmpeg timed out after ${opts.timeoutMs} ms`, 'timeout', tailLines(stderr));

    child.on('error', (err) => {
      // Not started (no such binary, not executable): nothing runs, nothing is left to kill.
      untrack(child);
      settle(new TranscodeError(`ffmpeg could not be started: ${err.message}`, 'failed', ''));
    });
    // On a timeout 'exit', not 'close': a pipe held open by something outside the group must not keep us waiting.
    child.on('exit', () => {
      untrack(child);
      if (timedOut) settle(timeoutError());
    });
    child.on('close', (code, signal) => {
      if (code === 0) return settle();
      const tail = tailLines(stderr);
      const how = signal ? `was killed with signal ${signal}` : `exited with code ${code}`;
      const last = tail.split('\n').at(-1);
      settle(new TranscodeError(`ffmpeg ${how}${last ? `: ${last}` : ''}`, 'failed', tail));
    });
  });
}

/** The last lines ffmpeg printed; progress lines end in \r, not \n. */
function tailLines(text: string): string {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => line.trimEnd())
    .filter((line) => line !== '')
    .slice(-STDERR_TAIL_LINES)
    .join('\n');
}

const running = new Set<ChildProcess>();

function track(child: ChildProcess): void {
  // Synchronous on purpose: 'exit' handlers cannot wait, and a kill needs no waiting.
  if (running.size === 0) process.on('exit', killAll);
  running.add(child);
}

function untrack(child: ChildProcess): void {
  if (!running.delete(child)) return;
  if (running.size === 0) process.off('exit', killAll);
}

/** The daemon is exiting (its stop ran, or it failed): no ffmpeg outlives it. */
function killAll(): void {
  for (const child of running) killGroup(child);
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    // The negative pid: every process of ffmpeg's group, `nice` and a wrapper script's children included.
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is gone already.
  }
}
