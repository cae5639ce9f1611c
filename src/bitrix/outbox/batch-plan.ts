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
}

/**
 * Picks up to `max` ready commands, oldest call first, each call's commands in order, stopping a call at its
 * first command that must wait (backoff, an attachment, no CALL_ID yet). Pure.
 */
export function planBatch(queues: Iterable<PlannableQueue>, now: number, max: number): BatchPlan {
  const commands: BatchCommand[] = [];
  const entries: BatchPlan['entries'] = [];
  let earliest: number | undefined;
  for (const q of queues) {
    if (q.inFlight) continue;
    let callId: unknown = q.callId;
    for (const entry of q.entries) {
      if (entry.notBefore > now) {
        earliest = Math.min(earliest ?? Infinity, entry.notBefore);
        break;
      }
      if (entry.kind === 'attach' || (entry.needsCallId && callId === undefined && entry.kind !== 'register')) break;
      if (commands.length >= max) return { commands, entries };
      const cmdKey = `c${entry.seq}`;
      const params = entry.needsCallId ? { CALL_ID: callId, ...entry.params } : entry.params;
      commands.push({ key: cmdKey, method: entry.method, params });
      entries.push({ entry, cmdKey });
      // Later commands of this call in the same batch take the CALL_ID the register returns.
      if (entry.kind === 'register') callId = ref(cmdKey, 'CALL_ID');
    }
  }
  return earliest === undefined ? { commands, entries } : { commands, entries, earliest };
}
