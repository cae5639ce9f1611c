import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { LocatedRecording, Locator } from '../recordings/locate.js';
import { runFfmpeg } from '../recordings/transcode.js';
import { inspectWav } from '../recordings/wav.js';
import type { TranscriptAudio } from './jobs.js';

/**
 * What a call's transcript is made from, kept in the job's own directory until the transcript is in the outbox (the
 * recordings pipeline may delete the original once attached, or read it from a temporary ARI download):
 *  1. MixMonitor's r()/t() files beside the recording (NAME<receiveSuffix>.ext, NAME<transmitSuffix>.ext), found
 *     through the same locator as the recording (local, mounted or over ARI);
 *  2. else a two-channel WAV (MixMonitor's D option), split by ffmpeg into its two channels;
 *  3. else the recording as it is: mono, one side.
 */

export interface AudioSettings {
  receiveSuffix: string;
  transmitSuffix: string;
  ffmpegPath: string | undefined;
  /** ffmpeg's limit for the split. */
  timeoutMs: number;
  nice: number;
  /** recordings.keepOriginals false: the side files are deleted once copied, as the pipeline deletes the mixed one. */
  removeSides: boolean;
}

export async function keepAudio(
  settings: AudioSettings,
  recording: { asteriskPath: string; localPath: string },
  locate: Locator,
  dir: string,
): Promise<TranscriptAudio> {
  await mkdir(dir, { recursive: true });
  const ext = posix.extname(recording.asteriskPath);
  const base = recording.asteriskPath.slice(0, recording.asteriskPath.length - ext.length);
  const scratch = join(dir, 'fetch');
  try {
    const receive = locate(`${base}${settings.receiveSuffix}${ext}`, scratch);
    const transmit = locate(`${base}${settings.transmitSuffix}${ext}`, scratch);
    if ((await present(receive)) && (await present(transmit))) {
      const r = join(dir, `receive${ext}`);
      const t = join(dir, `transmit${ext}`);
      await copyFile(await receive.localPath(), r);
      await copyFile(await transmit.localPath(), t);
      if (settings.removeSides) {
        // Best effort, as for the mixed file: a failure here (permissions) must not cost the transcript.
        await receive.removeOriginal().catch(() => undefined);
        await transmit.removeOriginal().catch(() => undefined);
      }
      return { kind: 'pair', from: 'files', receive: r, transmit: t };
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  const wav = await inspectWav(recording.localPath);
  if (wav.ok && wav.channels === 2 && settings.ffmpegPath) {
    const r = join(dir, 'receive.wav');
    const t = join(dir, 'transmit.wav');
    await splitChannels(recording.localPath, r, t, { ffmpegPath: settings.ffmpegPath, timeoutMs: settings.timeoutMs, nice: settings.nice });
    return { kind: 'pair', from: 'stereo', receive: r, transmit: t };
  }
  const file = join(dir, `mixed${ext || '.wav'}`);
  await copyFile(recording.localPath, file);
  return { kind: 'mono', file };
}

/** Channel 0 and channel 1 into two mono 16-bit PCM WAVs, in one ffmpeg run. */
export async function splitChannels(input: string, left: string, right: string, opts: { ffmpegPath: string; timeoutMs: number; nice: number }): Promise<void> {
  // prettier-ignore
  const args = [
    '-nostdin', '-i', input, '-y',
    // pan to a mono layout: channelsplit's "front left" layout makes ffmpeg write WAVE_FORMAT_EXTENSIBLE headers.
    '-filter_complex', '[0:a]pan=mono|c0=c0[l];[0:a]pan=mono|c0=c1[r]',
    '-map', '[l]', '-c:a', 'pcm_s16le', left,
    '-map', '[r]', '-c:a', 'pcm_s16le', right,
  ];
  await runFfmpeg(args, opts);
}

async function present(file: LocatedRecording): Promise<boolean> {
  try {
    return ((await file.size()) ?? 0) > 0;
  } catch {
    return false;
  }
}
