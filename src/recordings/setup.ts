import type { BitrixClient } from '../bitrix/client.js';
import type { AttachHandler, OutboxLogger } from '../bitrix/outbox.js';
import { recordingsConfigProblems, type RecordingsConfig } from '../config/recordings.js';
import type { AriCredentials } from './ari.js';
import { attachRecordFile } from './attach.js';
import { findFfmpeg, type FfmpegLookup } from './ffmpeg.js';
import { createLimit } from './limit.js';
import { createLocator, type SourceConfig } from './locate.js';
import { createAttachHandler, type RecordingHooks } from './pipeline.js';
import { clearStale, workDirFor, type PreparedKey } from './workdir.js';
import type { RecordingHandOff } from '../transcripts/handoff.js';

/** Builds the recordings pipeline from the `recordings:` section: the daemon's one call to wire it. */

export interface RecordingsSetup {
  config: RecordingsConfig;
  /** `state.dir`: the work dir lives there unless recordings.tmpDir is set. */
  stateDir: string;
  /**
   * The attach entries still waiting in the outbox store (a previous run's included): their prepared files are
   * kept at start, every other leftover is removed. Omitted: nothing is kept.
   */
  pendingAttachments?: () => readonly PreparedKey[];
  /** `asterisk.ari`, needed when source.type is 'ari'. */
  ari?: AriCredentials;
  client: Pick<BitrixClient, 'call'>;
  /** Takes a slot of the shared rate limiter before the upload POST. */
  beforeRequest?: () => Promise<void>;
  logger: OutboxLogger;
  hooks?: RecordingHooks;
  /** Transcripts' hand-off (src/transcripts/handoff.ts), when they are enabled. */
  handOff?: RecordingHandOff;
  /** Injectable for tests; default finds the real ffmpeg. */
  lookupFfmpeg?: () => Promise<FfmpegLookup>;
}

export interface Recordings {
  attach: AttachHandler;
  ffmpeg: FfmpegLookup;
  /** The directory the pipeline owns. */
  workDir: string;
}

/** undefined when recordings are disabled. Throws on a configuration that cannot work (ARI without credentials). */
export async function setupRecordings(deps: RecordingsSetup): Promise<Recordings | undefined> {
  const { config, logger } = deps;
  if (!config.enabled) return undefined;
  const problems = recordingsConfigProblems(config, deps.ari);
  if (problems.length > 0) throw new Error(problems.join('; '));

  const ffmpeg = await (deps.lookupFfmpeg ?? (() => findFfmpeg(config.ffmpegPath === undefined ? {} : { configPath: config.ffmpegPath })))();
  if (ffmpeg.ffmpeg) logger.info({ ...ffmpeg.ffmpeg }, 'recordings: ffmpeg found');
  else logger.warn({ problems: ffmpeg.problems }, 'recordings: no usable ffmpeg; WAVs will be attached untranscoded');

  const workDir = workDirFor(config.tmpDir, deps.stateDir);
  try {
    const { removed, kept } = await clearStale(workDir, deps.pendingAttachments?.() ?? []);
    if (removed.length > 0 || kept.length > 0) logger.info({ workDir, removed: removed.length, kept: kept.length }, 'recordings: work dir cleared of what an earlier run left');
  } catch (err) {
    // Not fatal here: each recording meets the same problem and is parked with it, visible.
    logger.error({ workDir, err }, 'recordings: work dir could not be cleared');
  }

  const attach = createAttachHandler({
    settings: config,
    workDir,
    locate: createLocator(sourceConfig(config, deps.ari)),
    ffmpegPath: ffmpeg.ffmpeg?.path,
    attach: (req) =>
      attachRecordFile(
        { client: deps.client, inlineMaxBytes: config.inlineMaxBytes, timeoutMs: config.httpTimeoutMs, ...(deps.beforeRequest ? { beforeRequest: deps.beforeRequest } : {}) },
        req,
      ),
    limit: createLimit(config.concurrency),
    logger,
    ...(deps.hooks ? { hooks: deps.hooks } : {}),
    ...(deps.handOff ? { handOff: deps.handOff } : {}),
  });
  return { attach, ffmpeg, workDir };
}

function sourceConfig(config: RecordingsConfig, ari: AriCredentials | undefined): SourceConfig {
  const s = config.source;
  switch (s.type) {
    case 'local':
      return { type: 'local' };
    case 'mount':
      if (!s.rewrite) throw new Error('recordings.source.type "mount" needs source.rewrite: { from, to }');
      return { type: 'mount', rewrite: s.rewrite };
    case 'ari':
      if (!ari) throw new Error('recordings.source.type "ari" needs asterisk.ari { url, username, password }');
      return { type: 'ari', recordingDir: s.ari.recordingDir, ari, timeoutMs: config.httpTimeoutMs };
  }
}
