import { isAbsolute } from 'node:path';
import { z } from 'zod';

/**
 * The `recordings:` config section. Every key has a default, so `recordings: {}` (or nothing) gives
 * "attach every MixMonitor file found on this host as a 32 kbps mono MP3".
 */

const absPath = z.string().refine((p) => isAbsolute(p), 'must be an absolute path');
const ms = (min: number) => z.number().int().min(min);

const sourceSchema = z
  .strictObject({
    /** local: the path Asterisk reports is readable here; mount: after `rewrite`; ari: downloaded over ARI. */
    type: z.enum(['local', 'mount', 'ari']).default('local'),
    /** mount: `from` (Asterisk's path prefix) is replaced by `to` (where that directory is mounted here). */
    rewrite: z.strictObject({ from: absPath, to: absPath }).optional(),
    ari: z
      .strictObject({
        /** Asterisk's recording directory (astspooldir/recording): ARI serves only files under it. */
        recordingDir: absPath.default('/var/spool/asterisk/recording'),
      })
      .prefault({}),
  })
  .refine((s) => s.type !== 'mount' || s.rewrite !== undefined, {
    message: 'source.type "mount" needs source.rewrite: { from, to }',
    path: ['rewrite'],
  });

export const recordingsSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Explicit ffmpeg binary; otherwise ffmpeg on PATH, then the @ffmpeg-installer/ffmpeg package. */
  ffmpegPath: z.string().min(1).optional(),
  /** MP3 bitrate; 32..64 kbps is plenty for mono telephone audio (8 kHz MP3 tops out at 64). */
  bitrateKbps: z.number().int().min(32).max(64).default(32),
  transcodeTimeoutMs: ms(1000).default(120_000),
  /** Transcodes at once: keep low, the PBX shares the CPU. */
  concurrency: z.number().int().min(1).max(8).default(1),
  /** ffmpeg's niceness (0 = normal priority, 19 = lowest). */
  nice: z.number().int().min(0).max(19).default(10),
  /** The file must keep the same size this long after the call ended before it is read. */
  stableMs: ms(0).default(1500),
  /** A file still growing at this try (each waits up to appearTimeoutMs + stableMs) is attached as recorded so far. */
  growingMaxTries: z.number().int().min(1).default(5),
  /** A file that has not appeared this long after we started waiting is reported missing. */
  appearTimeoutMs: ms(0).default(60_000),
  /** Files smaller than this are no recording: a 44-byte WAV is a header only (the caller was never connected). */
  minBytes: z.number().int().min(0).default(45),
  /** Up to this size the file goes inline (base64); larger ones use the two-step upload URL. */
  inlineMaxBytes: z.number().int().min(0).default(1024 * 1024),
  /** Timeout of one HTTP transfer: the multipart upload, an ARI download. */
  httpTimeoutMs: ms(1000).default(120_000),
  /** false: delete the original once it is attached (or found empty). */
  keepOriginals: z.boolean().default(true),
  /**
   * Parent of the daemon's own work directory (`<tmpDir>/asterisk-b24-bridge-recordings`; unset: `<state.dir>/recordings`):
   * MP3s and ARI downloads in use, and each pending recording's prepared file, kept for its retries. Leftovers are
   * removed at start, so give every daemon its own.
   */
  tmpDir: absPath.optional(),
  source: sourceSchema.prefault({}),
  /** Channel variable holding the recording's absolute path (set by MixMonitor, or by your dialplan). */
  pathVariable: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a channel variable name')
    .default('MIXMONITOR_FILENAME'),
});

export type RecordingsConfig = z.infer<typeof recordingsSchema>;

/** Cross-section check the section cannot do alone: ARI as a source needs `asterisk.ari` credentials. */
export function recordingsConfigProblems(recordings: RecordingsConfig, ari: unknown): string[] {
  if (recordings.enabled && recordings.source.type === 'ari' && ari === undefined) {
    return ['recordings.source.type "ari" needs asterisk.ari { url, username, password }'];
  }
  return [];
}
