import { z } from 'zod';

/**
 * The `transcripts:` config section (issue 18; the key names are a contract). Off by default: a call center without a
 * speech-to-text server sees no change. On, it needs only `url` and `model`: the audio of each answered, recorded
 * call goes to that OpenAI-compatible endpoint (`POST …/v1/audio/transcriptions`) and nowhere else.
 */

const ms = (min: number) => z.number().int().min(min);

export const transcriptsSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    /** The transcription endpoint itself, e.g. http://stt.lan:8000/v1/audio/transcriptions. */
    url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    /** The server's model name (whisper-1, Systran/faster-whisper-small, …). */
    model: z.string().min(1, 'must not be empty').optional(),
    /** An ISO-639-1 code the server is told the calls are in, or auto (the server detects it). */
    language: z
      .string()
      .regex(/^(auto|[a-z]{2,3})$/, 'must be an ISO-639-1 code such as "ru" or "en", or "auto"')
      .default('auto'),
    /** Sent as `Authorization: Bearer …`; or B24BRIDGE_TRANSCRIPTS_API_KEY. Optional: many local servers need none. */
    apiKey: z.string().min(1, 'must not be empty').optional(),
    /** One transcription request (one side of one call) may take this long before it is retried later. */
    timeoutMs: ms(1000).default(300_000),
    /** Requests to the server at once: it is usually one GPU. */
    concurrency: z.number().int().min(1).max(16).default(1),
    /** Answered calls shorter than this (talk time) are not transcribed. */
    minDurationSec: z.number().int().min(0).default(5),
    /** Only calls of these queues (empty: every call, queued or not). */
    queues: z.array(z.string().min(1)).default([]),
    /** Only calls of these directions. */
    directions: z.array(z.enum(['inbound', 'outbound'])).min(1, 'must name at least one direction').default(['inbound', 'outbound']),
    /**
     * Where two-side audio is found next to the recording Asterisk reports (NAME.wav): MixMonitor's r() and t()
     * files named NAME<receiveSuffix>.wav and NAME<transmitSuffix>.wav (README: the dialplan to paste).
     */
    receiveSuffix: z.string().regex(/^[A-Za-z0-9._-]{1,32}$/, 'must be a short file-name suffix').default('-in'),
    transmitSuffix: z.string().regex(/^[A-Za-z0-9._-]{1,32}$/, 'must be a short file-name suffix').default('-out'),
    /** A server that failed this many transcripts in a row shows as a warning in /healthz. */
    failuresBeforeWarning: z.number().int().min(1).default(3),
    /** Retry backoff of a failed request (doubles up to maxRetryDelayMs). */
    initialRetryDelayMs: ms(100).default(5_000),
    maxRetryDelayMs: ms(100).default(300_000),
    /**
     * A job still failing after this many tries is given up (logged and counted; the call keeps its recording).
     * 1000 tries at the 5-minute cap is about 3.5 days: a server down over a weekend delays transcripts, it does not
     * lose them, while a file the server can never take (too big, unsupported) does not wait forever.
     */
    maxTries: z.number().int().min(1).default(1000),
  })
  .superRefine((t, ctx) => {
    if (!t.enabled) return;
    if (t.url === undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: 'is required when transcripts.enabled is true' });
    if (t.model === undefined) ctx.addIssue({ code: 'custom', path: ['model'], message: 'is required when transcripts.enabled is true' });
    if (t.receiveSuffix === t.transmitSuffix) ctx.addIssue({ code: 'custom', path: ['transmitSuffix'], message: 'must differ from receiveSuffix' });
  });

export type TranscriptsConfig = z.infer<typeof transcriptsSchema>;

/** Cross-section check: transcripts are made from the recordings the bridge attaches. */
export function transcriptsConfigProblems(t: TranscriptsConfig, recordingsEnabled: boolean): string[] {
  return t.enabled && !recordingsEnabled ? ['transcripts.enabled needs recordings.enabled: transcripts are made from the attached recordings'] : [];
}
