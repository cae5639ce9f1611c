import type { BitrixClient } from '../bitrix/client.js';
import type { OutboxEntry } from '../bitrix/outbox-entry.js';
import type { OutboxLogger, TranscriptHandler } from '../bitrix/outbox.js';

/**
 * telephony.call.attachTranscription, sent by the outbox's attachment lane. Bitrix24 saves every attach as a new
 * transcript and points the call at the last one (docs/reference/bitrix24-telephony.md#attach-transcription), so a
 * resend after a lost answer would leave a second, orphaned transcript: before resending, the call's statistics row
 * is read (voximplant.statistic.get) and a TRANSCRIPT_ID there means the lost attempt landed.
 */

export const ATTACH_TRANSCRIPTION = 'telephony.call.attachTranscription';
export const STATISTIC_GET = 'voximplant.statistic.get';

export function createTranscriptHandler(client: Pick<BitrixClient, 'call'>, logger: OutboxLogger): TranscriptHandler {
  return async (entry: OutboxEntry) => {
    const callId = entry.params['CALL_ID'];
    if (entry.uncertain && typeof callId === 'string') {
      const rows = await client.call<Array<{ TRANSCRIPT_ID?: unknown }>>(STATISTIC_GET, { FILTER: { CALL_ID: callId } });
      const id = Array.isArray(rows) ? rows[0]?.TRANSCRIPT_ID : undefined;
      if (id !== undefined && id !== null && id !== '' && id !== '0') {
        logger.info({ key: entry.key, callId, transcriptId: id }, 'transcript: the attempt whose answer was lost did attach it; not sent again');
        return;
      }
    }
    const result = await client.call<{ TRANSCRIPT_ID?: unknown }>(ATTACH_TRANSCRIPTION, entry.params);
    logger.info({ key: entry.key, callId, transcriptId: result?.TRANSCRIPT_ID, messages: (entry.params['MESSAGES'] as unknown[]).length }, 'transcript attached');
  };
}
