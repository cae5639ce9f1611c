import type { AmiMessage } from '../../src/ami/types.js';
import { formatAmiMessage, traceEventsForReplay } from '../../src/sim/ami-simulator.js';
import { traceBytes } from './traces.js';

/** Recorded traces as event lists to cut, filter or shift before an AMI simulator replays them. */

/** The events a live session saw during the recording (what `AmiSimulator.replay` would send). */
export function replayEvents(name: string): AmiMessage[] {
  return traceEventsForReplay(traceBytes(name));
}

/**
 * Back to the AMI wire format that `AmiSimulator.replay` takes: a recorded session, so it starts with the login
 * response (replay skips everything up to the first message with a `Response` header, and OriginateResponse has one).
 */
export function asTrace(events: AmiMessage[]): string {
  return formatAmiMessage({ Response: 'Success', Message: 'Authentication accepted' }) + events.map(formatAmiMessage).join('');
}

/** The same events `seconds` later (Timestamp headers only): a recorded call replayed as a later one. */
export function shifted(events: AmiMessage[], seconds: number): AmiMessage[] {
  return events.map((e) => (typeof e['Timestamp'] === 'string' ? { ...e, Timestamp: (Number(e['Timestamp']) + seconds).toFixed(6) } : e));
}

/** The recorded Timestamp of an event, in seconds. */
export const stamp = (e: AmiMessage | undefined): number => Number(e?.['Timestamp']);

/**
 * Copy `k` of a recorded session as a different set of calls: `c<k>-` before every *Uniqueid and *Linkedid value, and
 * `k` (4 hex digits) before the suffix of every *Channel name, so no two copies share a call, channel or bridge.
 */
export function copied(events: AmiMessage[], k: number): AmiMessage[] {
  const hex = k.toString(16).padStart(4, '0');
  return events.map((e) => {
    const out: AmiMessage = { ...e };
    for (const [key, value] of Object.entries(e)) {
      if (typeof value !== 'string') continue;
      if (/(Uniqueid|Linkedid)$/.test(key)) out[key] = `c${k}-${value}`;
      else if (/Channel$/.test(key)) out[key] = value.replace(/-([0-9a-f]{8})(;\d)?$/, `-${hex}$1$2`);
    }
    return out;
  });
}

/**
 * The events moved so the first one happens now: CALL_START_DATE is then today's, as on a live PBX (Bitrix24
 * recognises a repeated register only within 30 minutes of it, and the outbox repeats one only then).
 */
export function startingNow(events: AmiMessage[]): AmiMessage[] {
  const first = events.map(stamp).find(Number.isFinite);
  return first === undefined ? events : shifted(events, Date.now() / 1000 - first);
}
