import { readFileSync } from 'node:fs';
import type { AmiMessage } from '../ami/types.js';
import { readTraceEvents, type SimQueueState } from '../sim/ami-simulator.js';

/**
 * The demo PBX's queues, as Asterisk reported them in the recordings: `support` (ringall, 101-103) from the
 * queue_actions trace's first QueueStatus and `sales` (leastrecent, 201-203) from sales_leastrecent_ringback's.
 */
export function recordedQueueState(traceDir: string): SimQueueState {
  const list = (trace: string, actionId: string): AmiMessage[] =>
    readTraceEvents(readFileSync(`${traceDir}${trace}.ami`))
      .filter((m) => m['ActionID'] === actionId)
      .map(({ ActionID: _id, ...rest }) => rest);
  const items = [...list('queue_actions', 'queue_actions-3'), ...list('sales_leastrecent_ringback', 'sales_leastrecent_ringback-20')];
  return { params: items.filter((m) => m['Event'] === 'QueueParams'), members: items.filter((m) => m['Event'] === 'QueueMember') };
}
