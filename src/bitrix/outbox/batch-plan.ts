import type { BatchCommand } from '../client.js';
import { ref } from '../encode.js';
import type { OutboxEntry } from '../outbox-entry.js';

/** A call's queue as the planner sees it. */
export interface PlannableQueue {
  entries: readonly OutboxEntry[];
  inFlight: boolean;
  callId?: string | undefined;
}

export interface BatchPlan {
  commands: BatchCommand[];
  entries: Array<{ entry: OutboxEntry; cmdKey: string }>;
  /** When the next waiting command becomes due, if one is held back by its backoff. */
  earliest?: number;
  /** Registers that must not be sent again (see register-dedup.ts): the caller parks them. */
  stale: OutboxEntry[];
}

/**
 * Picks up to `max` ready commands, oldest call first, each call's commands in order, stopping a call at its
 * first command that must wait (backoff, an attachment, no CALL_ID yet, a register that may no longer be resent).
 * A finish never joins the request of its call's register: if that request's answer is lost and it is sent again,
 * the call must still be unfinished, so that Bitrix24 answers the repeated register with the same call (it
 * recognises repeats of unfinished calls only). It waits for the CALL_ID, one request later. Pure.
 */
export function planBatch(
  queues: Iterable<PlannableQueue>,
  now: number,
  max: number,
  mayResend: (e: OutboxEntry) => boolean = () => true,
  /** A command held back for now (its user is not known yet), with when to look again. */
  heldUntil: (e: OutboxEntry) => number | undefined = () => undefined,
): BatchPlan {
  const commands: BatchCommand[] = [];
  const entries: BatchPlan['entries'] = [];
  const stale: OutboxEntry[] = [];
  let earliest: number | undefined;
  for (const q of queues) {
    if (q.inFlight) continue;
    let callId: unknown = q.callId;
    let registerHere = false;
    for (const entry of q.entries) {
      if (entry.notBefore > now) {
        earliest = Math.min(earliest ?? Infinity, entry.notBefore);
        break;
      }
      if (entry.kind === 'attach' || entry.kind === 'transcript' || (entry.needsCallId && callId === undefined && entry.kind !== 'register')) break;
      const held = heldUntil(entry);
      if (held !== undefined && held > now) {
        earliest = Math.min(earliest ?? Infinity, held);
        break;
      }
      if (entry.kind === 'finish' && registerHere) break;
      if (entry.kind === 'register' && !mayResend(entry)) {
        stale.push(entry);
        break;
      }
      if (commands.length >= max) return plan(commands, entries, earliest, stale);
      const cmdKey = `c${entry.seq}`;
      const params = entry.needsCallId ? { CALL_ID: callId, ...entry.params } : entry.params;
      commands.push({ key: cmdKey, method: entry.method, params });
      entries.push({ entry, cmdKey });
      // Later commands of this call in the same batch take the CALL_ID the register returns.
      if (entry.kind === 'register') {
        callId = ref(cmdKey, 'CALL_ID');
        registerHere = true;
      }
    }
  }
  return plan(commands, entries, earliest, stale);
}

function plan(commands: BatchCommand[], entries: BatchPlan['entries'], earliest: number | undefined, stale: OutboxEntry[]): BatchPlan {
  return earliest === undefined ? { commands, entries, stale } : { commands, entries, earliest, stale };
}
