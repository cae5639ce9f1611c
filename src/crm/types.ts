import type { CallEnded } from '../core/effects.js';

/** What the CRM features read of a finished call (the core's CallEnded, with waitSec and answeredBy). */
export type CallSummary = CallEnded;

/** Bitrix24 finish statuses in words, for people reading tasks and timelines. */
export const STATUS_TEXT: Readonly<Record<string, string>> = {
  '200': 'answered',
  '304': 'nobody answered',
  '486': 'busy',
  '603': 'rejected',
  '603-S': 'agent hung up first',
  '480': 'unavailable',
  '503': 'congestion',
};
