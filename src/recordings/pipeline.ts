import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, rm, stat } from 'node:fs/promises';
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
import { dropPrepared, findPrepared, keepPrepared, type PreparedFile } from './workdir.js';
import type { RecordedCall } from '../core/effects.js';
import type { RecordingHandOff } from '../transcripts/handoff.js';
import { inspectWav, type WavInfo } from './wav.js';

/**
 * One recording, from the path Asterisk reported to a record on the Bitrix24 call: locate → wait until
 * complete → transcode to MP3 (or fall back to the WAV) → attach. Outcomes that no retry can change
 * (missing, empty, corrupt) resolve after being logged and counted; only transient failures reject with
 * a retryable BitrixError, so the outbox retries them and a restart picks them up again. The file sent is kept
 * in the work dir until the call has it (or it is given up): a retry only repeats the upload.
 */

export type FailureReason = 'unlocatable' | 'unreadable' | 'corrupt' | 'no-ffmpeg' | 'growing';

export interface RecordingHooks {
  onAttached?(info: { linkedid: string; callId: string; format: 'mp3' | 'wav'; mode: AttachResult['mode']; bytes: number }): void;
  /** 'growing': still being written after growingMaxTries; what was recorded so far may still be attached. */
  onFailed?(reason: FailureReason): void;
  /** The file never appeared within appearTimeoutMs. */
  onMissing?(): void;
  /** A header-only file: the call was never connected, there is nothing to hear. */
  onEmpty?(): void;
}

export type PipelineSettings = Pick<
  RecordingsConfig,
  'bitrateKbps' | 'transcodeTimeoutMs' | 'nice' | 'stableMs' | 'appearTimeoutMs' | 'minBytes' | 'keepOriginals' | 'growingMaxTries'
>;

export interface PipelineDeps {
  settings: PipelineSettings;
  /** The directory this pipeline owns (workdir.ts); created on first use. */
  workDir: string;
  locate: Locator;
  /** undefined: no usable ffmpeg; valid WAVs are then attached untranscoded. */
  ffmpegPath: string | undefined;
  attach: (req: AttachRequest) => Promise<AttachResult>;
  /** Bounds concurrent transcodes. */
  limit: Limit;
  logger: OutboxLogger;
  hooks?: RecordingHooks;
  /** Transcripts (issue 18): told of each recording once the call has it, before the original may be removed. */
  handOff?: RecordingHandOff;
  transcode?: typeof transcodeToMp3;
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

interface Upload extends PreparedFile {
  fileName: string;
}

export function createAttachHandler(deps: PipelineDeps): AttachHandler {
  const { settings, logger, hooks, workDir } = deps;
  const transcode = deps.transcode ?? transcodeToMp3;

  return async (entry: OutboxEntry, callId: string) => {
    const path = entry.params['path'];
    if (typeof path !== 'string') throw fail('fatal', 'CONTRACT', 'attach entry has no recording path');
    const ctx = { linkedid: entry.key, callId, path, attempt: entry.attempts + 1 };
    // Created only when something is written there: a file that never appears leaves no directory behind.
    const scratch = join(workDir, `try-${randomUUID()}`);
    const base = recordName(path);
    // The prepared file stays only while a retry will want it.
    let keep = false;
    try {
      const located = deps.locate(path, scratch);
      const prepared = await findPrepared(workDir, entry);
      if (prepared) logger.info({ ...ctx, file: prepared.file }, 'recording: reusing the file an earlier try prepared');
      const kept = prepared ?? (await prepareFresh(entry, located, scratch, base, ctx));
      if (!kept) return;
      const upload: Upload = { ...kept, fileName: `${base}.${kept.format}` };
      const result = await deps.attach({ callId, file: upload.file, fileName: upload.fileName });
      logger.info({ ...ctx, format: upload.format, mode: result.mode, bytes: result.bytes, fileId: result.fileId }, 'recording attached');
      hooks?.onAttached?.({ linkedid: entry.key, callId, format: upload.format, mode: result.mode, bytes: result.bytes });
      await deps.handOff?.({
        linkedid: entry.key,
        callId,
        call: entry.params['call'] as RecordedCall | undefined,
        asteriskPath: path,
        localPath: () => located.localPath(),
        locate: deps.locate,
        ffmpegPath: deps.ffmpegPath,
      });
      // Asterisk may still be writing a partial one: removing it would lose the rest.
      if (!upload.partial) await removeOriginal(located, ctx);
    } catch (err) {
      const error = classify(err, ctx);
      keep = error?.kind === 'retryable';
      if (error) throw error;
    } finally {
      await rm(scratch, { recursive: true, force: true }).catch((err: unknown) => logger.warn({ ...ctx, err }, 'recording: temp files not removed'));
      if (!keep) await dropPrepared(workDir, entry).catch((err: unknown) => logger.warn({ ...ctx, err }, 'recording: prepared file not removed'));
    }
  };

  /** Waits for the file and turns it into the file to send, kept in the work dir; undefined when there is none (reported). */
  async function prepareFresh(entry: OutboxEntry, located: LocatedRecording, scratch: string, base: string, ctx: object): Promise<PreparedFile | undefined> {
    const waited = await waitStable({
      size: () => located.size(),
      stableMs: settings.stableMs,
      appearTimeoutMs: settings.appearTimeoutMs,
      ...(deps.clock ? { clock: deps.clock } : {}),
      ...(deps.sleep ? { sleep: deps.sleep } : {}),
    });
    if (waited.status === 'missing') {
      logger.warn({ ...ctx, where: located.where, waitedMs: waited.waitedMs }, 'recording: file never appeared; call left without a record');
      hooks?.onMissing?.();
      return undefined;
    }
    const partial = waited.status === 'growing';
    if (partial) {
      const tries = entry.attempts + 1;
      // Each try holds an attachment slot for appearTimeoutMs + stableMs: a file that never settles must not hold it forever.
      if (tries < settings.growingMaxTries) throw fail('retryable', 'TIMEOUT', `recording ${located.where} is still being written (try ${tries} of ${settings.growingMaxTries})`);
      logger.warn({ ...ctx, where: located.where, bytes: waited.size, tries }, 'recording: still being written after the last try; attaching what was recorded so far');
      hooks?.onFailed?.('growing');
    }
    let local = await located.localPath();
    if (partial) {
      // A fixed copy: ffmpeg and the size checks must see one file, not one that grows under them.
      await mkdir(scratch, { recursive: true });
      const snapshot = join(scratch, `snapshot${posix.extname(local)}`);
      await copyFile(local, snapshot);
      local = snapshot;
    }
    const wav = await inspectWav(local);
    const size = partial ? (await stat(local)).size : waited.size;
    if (size < settings.minBytes || (wav.ok && wav.dataBytes === 0)) {
      logger.info({ ...ctx, bytes: size }, 'recording: no audio (header only); nothing to attach');
      if (partial) return undefined;
      hooks?.onEmpty?.();
      await removeOriginal(located, ctx);
      return undefined;
    }
    const made = await convert(local, base, scratch, wav, ctx);
    if (typeof made === 'string') {
      logger.error({ ...ctx, reason: made, wav: wav.ok ? undefined : wav.reason }, 'recording: unusable file and not a valid WAV; call left without a record');
      // A partial one was counted once, as 'growing'.
      if (!partial) hooks?.onFailed?.(made);
      return undefined;
    }
    return keepPrepared(workDir, scratch, entry, made.file, made.format, partial);
  }

  /** The file to send: an MP3, else the original WAV; the reason when neither works. */
  async function convert(local: string, base: string, scratch: string, wav: WavInfo, ctx: object): Promise<{ file: string; format: 'mp3' | 'wav' } | FailureReason> {
    const ffmpegPath = deps.ffmpegPath;
    if (ffmpegPath) {
      await mkdir(scratch, { recursive: true });
      const output = join(scratch, `${base}.mp3`);
      try {
        await deps.limit(() =>
          transcode(local, output, { bitrateKbps: settings.bitrateKbps, timeoutMs: settings.transcodeTimeoutMs, nice: settings.nice, ffmpegPath }),
        );
        if ((await stat(output)).size > 0) return { file: output, format: 'mp3' };
        logger.error({ ...ctx }, 'recording: ffmpeg produced an empty MP3');
      } catch (err) {
        const stderr = err instanceof TranscodeError ? err.stderr : undefined;
        logger.error({ ...ctx, error: (err as Error).message, ffmpeg: stderr }, 'recording: ffmpeg could not transcode the file');
      }
    }
    if (wav.ok) {
      if (!ffmpegPath) logger.warn({ ...ctx }, 'recording: no ffmpeg; attaching the WAV untranscoded');
      else logger.warn({ ...ctx }, 'recording: attaching the original WAV instead');
      await mkdir(scratch, { recursive: true });
      return { file: local, format: 'wav' };
    }
    return ffmpegPath ? 'corrupt' : 'no-ffmpeg';
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
    // Unknown (work dir unusable, disk full…): parked, visible, and retried by an operator, not in a loop.
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
