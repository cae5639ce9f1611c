import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { OutboxLogger } from '../bitrix/outbox.js';
import type { TranscriptsConfig } from '../config/transcripts.js';
import type { RecordedCall } from '../core/effects.js';
import type { Locator } from '../recordings/locate.js';
import { keepAudio } from './audio.js';
import type { JobStore } from './jobs.js';
import { transcriptSkip, type Skip } from './policy.js';
import type { TranscriptWorker } from './worker.js';

/**
 * The recordings pipeline's hand-off: a recording the call now has becomes a transcript job, its audio copied into
 * the job's directory first (the pipeline may delete or never have kept the original). Only after the attach, which
 * the outbox sends only after the finish: a transcript is never asked for a call Bitrix24 has not finished.
 */

export interface AttachedRecording {
  linkedid: string;
  callId: string;
  /** The call's facts as the core saw them at its end (undefined: queued by an older version). */
  call: RecordedCall | undefined;
  /** The path Asterisk reported. */
  asteriskPath: string;
  /** A readable copy of it (for ARI, a fresh download). */
  localPath(): Promise<string>;
  /** The recordings' locator: finds the r()/t() files beside it the same way. */
  locate: Locator;
  ffmpegPath: string | undefined;
}

export type RecordingHandOff = (recording: AttachedRecording) => Promise<void>;

export interface HandOffDeps {
  config: TranscriptsConfig;
  /** The directory transcripts own: one sub-directory per job. */
  workDir: string;
  worker: TranscriptWorker;
  clock: () => number;
  logger: OutboxLogger;
  nice: number;
  /** recordings.keepOriginals: false deletes the r()/t() files once copied. */
  keepOriginals: boolean;
  onSkipped?(reason: Skip): void;
  /** The audio could not be kept: the call keeps its recording, without a transcript. */
  onFailed?(): void;
}

export function createHandOff(deps: HandOffDeps): RecordingHandOff {
  const { config, logger } = deps;
  return async (rec) => {
    const ctx = { linkedid: rec.linkedid, callId: rec.callId };
    const skip = transcriptSkip(rec.call, config);
    if (skip) {
      logger.debug({ ...ctx, skip }, 'transcript: not for this call');
      deps.onSkipped?.(skip);
      return;
    }
    const dir = join(deps.workDir, jobDirName(rec.linkedid));
    try {
      await mkdir(deps.workDir, { recursive: true });
      const audio = await keepAudio(
        {
          receiveSuffix: config.receiveSuffix,
          transmitSuffix: config.transmitSuffix,
          ffmpegPath: rec.ffmpegPath,
          timeoutMs: config.timeoutMs,
          nice: deps.nice,
          removeSides: !deps.keepOriginals,
        },
        { asteriskPath: rec.asteriskPath, localPath: await rec.localPath() },
        rec.locate,
        dir,
      );
      const added = deps.worker.add({
        linkedid: rec.linkedid,
        callId: rec.callId,
        dir,
        audio,
        durationSec: rec.call!.durationSec,
        recordedOn: rec.call!.recordedOn,
        attempts: 0,
        notBefore: 0,
        createdAt: deps.clock(),
      });
      if (added) logger.info({ ...ctx, audio: audio.kind === 'pair' ? `two sides (${audio.from})` : 'mono' }, 'transcript: job created');
      else logger.info({ ...ctx }, 'transcript: this call already has its job');
    } catch (err) {
      // Only the transcript is lost: the recording is attached, and a retry of it would upload it again.
      logger.error({ ...ctx, err }, 'transcript: the audio could not be kept; call left without a transcript');
      deps.onFailed?.();
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
  };
}

/** A Linkedid (`1795263642.90`) as a directory name. */
export function jobDirName(linkedid: string): string {
  return `job-${linkedid.replace(/[^A-Za-z0-9._-]/g, '_')}`;
}

/** At start: directories no waiting job owns are what a crash left mid-copy. */
export async function clearStaleJobDirs(workDir: string, jobs: JobStore): Promise<number> {
  const owned = new Set(jobs.all().map((j) => j.dir));
  let names: string[];
  try {
    names = await readdir(workDir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const path = join(workDir, name);
    if (owned.has(path)) continue;
    await rm(path, { recursive: true, force: true });
    removed++;
  }
  return removed;
}
