import ffmpeg from 'fluent-ffmpeg';
import { findExecutable } from './ffmpeg.js';

/**
 * The one place fluent-ffmpeg is used: recording in, mono MP3 out, at low CPU priority, killed on timeout.
 *
 * Caveat: fluent-ffmpeg keeps the ffmpeg path (and its capability cache) process-wide, not per command.
 * The daemon uses one ffmpeg, so that is harmless; it is why the path is set right before each run.
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

export async function transcodeToMp3(input: string, output: string, opts: TranscodeOptions): Promise<void> {
  const niceness = opts.nice > 0 && (await findExecutable('nice')) ? opts.nice : 0;
  const command = ffmpeg({ source: input, niceness, stdoutLines: STDERR_TAIL_LINES })
    .setFfmpegPath(opts.ffmpegPath)
    .inputOptions(['-nostdin'])
    .noVideo()
    .audioChannels(1)
    .audioCodec('libmp3lame')
    .audioBitrate(opts.bitrateKbps)
    // Drop tags and any cover art a WAV may carry; Bitrix24 plays the audio only.
    .outputOptions(['-map_metadata', '-1'])
    .format('mp3')
    .output(output);

  await new Promise<void>((resolve, reject) => {
    let settled = false;
    let timedOut = false;
    let started = false;
    const settle = (err?: TranscodeError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      // Before 'start' fluent-ffmpeg is still probing ffmpeg's capabilities: the process is killed once it starts.
      if (started) command.kill('SIGKILL');
      settle(new TranscodeError(`ffmpeg timed out after ${opts.timeoutMs} ms`, 'timeout', ''));
    }, opts.timeoutMs);
    command.on('start', () => {
      started = true;
      if (timedOut) command.kill('SIGKILL');
    });
    command.on('end', () => settle());
    command.on('error', (err: Error, _stdout: string | null, stderr: string | null) => {
      settle(new TranscodeError(firstLine(err.message), 'failed', tailLines(stderr ?? '')));
    });
    command.run();
  });
}

function tailLines(text: string): string {
  return text.trim().split('\n').slice(-STDERR_TAIL_LINES).join('\n');
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
