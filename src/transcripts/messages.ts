/**
 * Speech-to-text segments → telephony.call.attachTranscription's MESSAGES (docs/reference/bitrix24-telephony.md#attach-transcription):
 * each side's segments labelled (the customer is Client, the agent User), interleaved by start time, times in whole
 * seconds within the call's DURATION (START_TIME ≥ 0, STOP_TIME ≥ 1 and after the start), empty text dropped. Pure.
 */

export type Side = 'User' | 'Client';

export interface Segment {
  /** Seconds from the start of the audio. */
  start: number;
  end: number;
  text: string;
}

export interface TranscriptMessage {
  SIDE: Side;
  START_TIME: number;
  STOP_TIME: number;
  MESSAGE: string;
}

/**
 * A mono recording holds both voices in one: its text goes out as this side. The agent's (User) was chosen because
 * Bitrix24 shows User lines as the portal's own side of the conversation and the bridge cannot claim the words are
 * the customer's; README says so.
 */
export const MONO_SIDE: Side = 'User';

export function toMessages(sides: ReadonlyArray<{ side: Side; segments: readonly Segment[] }>, durationSec: number): TranscriptMessage[] {
  // A call Bitrix24 counts as 0 s long still gets its words, at 0–1 s.
  const duration = Math.max(1, Math.floor(durationSec));
  const out: Array<TranscriptMessage & { at: number; order: number }> = [];
  let order = 0;
  for (const { side, segments } of sides) {
    for (const s of segments) {
      const text = s.text.replace(/\s+/g, ' ').trim();
      if (text === '' || !Number.isFinite(s.start)) continue;
      const startAt = Math.max(0, s.start);
      const start = Math.min(duration - 1, Math.floor(startAt));
      const end = Number.isFinite(s.end) ? s.end : startAt;
      const stop = Math.min(duration, Math.max(start + 1, Math.ceil(end)));
      out.push({ SIDE: side, START_TIME: start, STOP_TIME: stop, MESSAGE: text, at: startAt, order: order++ });
    }
  }
  // Stable: equal starts keep the server's order within a side, the listed side first across sides.
  out.sort((a, b) => a.at - b.at || a.order - b.order);
  return out.map(({ SIDE, START_TIME, STOP_TIME, MESSAGE }) => ({ SIDE, START_TIME, STOP_TIME, MESSAGE }));
}

/** Which side each stream of the recorded channel is: what it sent is its own party's voice. */
export function sidesOf(recordedOn: 'customer' | 'agent'): { receive: Side; transmit: Side } {
  return recordedOn === 'customer' ? { receive: 'Client', transmit: 'User' } : { receive: 'User', transmit: 'Client' };
}
