import { mkdtemp, rm, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { BitrixError, type BitrixErrorCode } from '../bitrix/errors.js';
import type { OutboxEntry } from '../bitrix/outbox-entry.js';
import type { AttachHandler, OutboxLogger } from '../bitrix/outbox.js';
import type { RecordingsConfig } from '../config/recordings.js';
import { AriRefusedError, AriUnavailableError } from './ari.js';
import type { AttachRequest, AttachResult } from './attach.js';
import type { Limit } from './limit.js';
import { UnlocatableError, UnreadableError, type LocatedRecording, type Locator } from './locate.js';
import { TranscodeError, transcodeToMp3 } from './transcode.js';
import { waitStable } from './wait-stable.js';
import { inspectWav, type WavInfo } from './wav.js';

/**
 * One recording, from the path Asterisk reported to a record on the Bitrix24 call: locate → wait until
 * complete → transcode to MP3 (or fall back to the WAV) → attach. Outcomes that no retry can change
 * (missing, empty, corrupt) resolve after being logged and counted; only transient failures reject with
 * a retryable BitrixError, so the outbox retries them and a restart picks them up again.
 */

export type FailureReason = 'unlocatable' | 'unreadable' | 'corrupt' | 'no-ffmpeg';

export interface RecordingHooks {
  onAttached?(info: { linkedid: string; callId: string; format: 'mp3' | 'wav'; mode: AttachResult['mode']; bytes: number }): void;
  onFailed?(reason: FailureReason): void;
  /** The file never appeared within appearTimeoutMs. */
  onMissing?(): void;
  /** A header-only file: the call was never connected, there is nothing to hear. */
  onEmpty?(): void;
}

export type PipelineSettings = Pick<
  RecordingsConfig,
  'bitrateKbps' | 'transcodeTimeoutMs' | 'nice' | 'stableMs' | 'appearTimeoutMs' | 'minBytes' | 'keepOriginals' | 'tmpDir'
>;

export interface PipelineDeps {
  settings: PipelineSettings;
  locate: Locator;
  /** undefined: no usable ffmpeg; valid WAVs are then attached untranscoded. */
  ffmpegPath: string | undefined;
  attach: (req: AttachRequest) => Promise<AttachResult>;
  /** Bounds concurrent transcodes. */
  limit: Limit;
  logger: OutboxLogger;
  hooks?: RecordingHooks;
  transcode?: typeof transcodeToMp3;
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

interface Upload {
  file: string;
  fileName: string;
  format: 'mp3' | 'wav';
}

export function createAttachHandler(deps: PipelineDeps): AttachHandler {
  const { settings, logger, hooks } = deps;
  const transcode = deps.transcode ?? transcodeToMp3;

  return async (entry: OutboxEntry, callId: string) => {
    const path = entry.params['path'];
    if (typeof path !== 'string') throw fail('fatal', 'CONTRACT', 'attach entry has no recording path');
    const ctx = { linkedid: entry.key, callId, path, attempt: entry.attempts + 1 };
    let workDir: string | undefined;
    try {
      workDir = await mkdtemp(join(settings.tmpDir, 'b24-recording-'));
      const located = deps.locate(path, workDir);
      const waited = await waitStable({
        size: () => located.size(),
        stableMs: settings.stableMs,
        appearTimeoutMs: settings.appearTimeoutMs,
        ...(deps.clock ? { clock: deps.clock } : {}),
        ...(deps.sleep ? { sleep: deps.sleep } : {}),
      });
      if (waited.status === 'missing') {
        logger.warn({ ...ctx, where: located.where, waitedMs: waited.waitedMs }, 'recording: file never appeared; call left without a record');
        return hooks?.onMissing?.();
      }
      if (waited.status === 'growing') throw fail('retryable', 'TIMEOUT', `recording ${located.where} is still being written`);
      const local = await located.localPath();
      const wav = await inspectWav(local);
      if (waited.size < settings.minBytes || (wav.ok && wav.dataBytes === 0)) {
        logger.info({ ...ctx, bytes: waited.size }, 'recording: no audio (header only); nothing to attach');
        hooks?.onEmpty?.();
        return await removeOriginal(located, ctx);
      }
      const upload = await prepare(local, recordName(path), workDir, wav, ctx);
      if (!upload) return;
      const result = await deps.attach({ callId, file: upload.file, fileName: upload.fileName });
      logger.info({ ...ctx, format: upload.format, mode: result.mode, bytes: result.bytes, fileId: result.fileId }, 'recording attached');
      hooks?.onAttached?.({ linkedid: entry.key, callId, format: upload.format, mode: result.mode, bytes: result.bytes });
      await removeOriginal(located, ctx);
    } catch (err) {
      const error = classify(err, ctx);
      if (error) throw error;
    } finally {
      if (workDir) await rm(workDir, { recursive: true, force: true }).catch((err: unknown) => logger.warn({ ...ctx, err }, 'recording: temp files not removed'));
    }
  };

  /** The file to send: an MP3, else the original WAV; undefined (already reported) when neither works. */
  async function prepare(local: string, base: string, workDir: string, wav: WavInfo, ctx: object): Promise<Upload | undefined> {
    const ffmpegPath = deps.ffmpegPath;
    if (ffmpegPath) {
      const output = join(workDir, `${base}.mp3`);
      try {
        await deps.limit(() =>
          transcode(local, output, { bitrateKbps: settings.bitrateKbps, timeoutMs: settings.transcodeTimeoutMs, nice: settings.nice, ffmpegPath }),
        );
        if ((await stat(output)).size > 0) return { file: output, fileName: `${base}.mp3`, format: 'mp3' };
        logger.error({ ...ctx }, 'recording: ffmpeg produced an empty MP3');
      } catch (err) {
        const stderr = err instanceof TranscodeError ? err.stderr : undefined;
        logger.error({ ...ctx, error: (err as Error).message, ffmpeg: stderr }, 'recording: ffmpeg could not transcode the file');
      }
    }
    if (wav.ok) {
      if (!ffmpegPath) logger.warn({ ...ctx }, 'recording: no ffmpeg; attaching the WAV untranscoded');
      else logger.warn({ ...ctx }, 'recording: attaching the original WAV instead');
      return { file: local, fileName: `${base}.wav`, format: 'wav' };
    }
    const reason: FailureReason = ffmpegPath ? 'corrupt' : 'no-ffmpeg';
    logger.error({ ...ctx, reason, wav: wav.reason }, 'recording: unusable file and not a valid WAV; call left without a record');
    hooks?.onFailed?.(reason);
    return undefined;
  }

  async function removeOriginal(located: LocatedRecording, ctx: object): Promise<void> {
    if (settings.keepOriginals) return;
    try {
      await located.removeOriginal();
    } catch (err) {
      logger.warn({ ...ctx, error: (err as Error).message }, 'recording: original not removed');
    }
  }

  /** What the outbox should do with a failure; final outcomes are reported here and resolve. */
  function classify(err: unknown, ctx: object): BitrixError | undefined {
    if (err instanceof BitrixError) return err;
    if (err instanceof AriUnavailableError) return fail('retryable', 'NETWORK', err.message, 'ari');
    if (err instanceof AriRefusedError) return fail('fatal', 'AUTH', err.message, 'ari');
    const reason: FailureReason | undefined = err instanceof UnlocatableError ? 'unlocatable' : err instanceof UnreadableError ? 'unreadable' : undefined;
    if (reason) {
      logger.error({ ...ctx, reason, error: (err as Error).message }, 'recording: cannot read the file; call left without a record');
      hooks?.onFailed?.(reason);
      return undefined;
    }
    // Unknown (temp dir unusable, disk full…): parked, visible, and retried by an operator, not in a loop.
    logger.error({ ...ctx, err }, 'recording: unexpected failure');
    return fail('fatal', 'CONTRACT', `recording pipeline failed: ${(err as Error)?.message ?? String(err)}`);
  }
}

/** The name Bitrix24 shows: Asterisk's file name (the local copy may be a temp download), extension replaced. */
function recordName(asteriskPath: string): string {
  return posix.basename(asteriskPath).replace(/\.[^.]*$/, '') || 'recording';
}

function fail(kind: 'retryable' | 'fatal', errorCode: BitrixErrorCode, description: string, method = 'recordings'): BitrixError {
  return new BitrixError({ kind, errorCode, code: errorCode, description, method });
}
