import type { TranscriptsConfig } from '../config/transcripts.js';
import type { RecordedCall } from '../core/effects.js';

/**
 * Which recorded calls get a transcript: answered ones only (an unanswered call has nobody to transcribe, and its
 * audio never goes to the server), at least minDurationSec of talk, of a listed direction and queue. Pure.
 */
export type Skip = 'not-answered' | 'too-short' | 'direction' | 'queue' | 'unknown-call';

export function transcriptSkip(call: RecordedCall | undefined, cfg: Pick<TranscriptsConfig, 'minDurationSec' | 'directions' | 'queues'>): Skip | undefined {
  // An attachment queued by a version that did not record the call's facts: nothing says it was answered.
  if (call === undefined) return 'unknown-call';
  if (!call.answered) return 'not-answered';
  if (call.durationSec < cfg.minDurationSec) return 'too-short';
  if (!cfg.directions.includes(call.direction)) return 'direction';
  if (cfg.queues.length > 0 && (call.queue === undefined || !cfg.queues.includes(call.queue))) return 'queue';
  return undefined;
}
