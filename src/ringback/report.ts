import type { RingBackConfig } from '../config/ringback.js';
import type { RingBackCause, RingBackEffect, RingBackLogEvent, RingBackPolicyName } from './types.js';

/**
 * How the ring-back fix reports: one log line per pause/penalty, undo, failure or hand-off (with queue, member,
 * interface, reason and cause), a metric for each, and the optional notice to the agent.
 */

export interface RingBackLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export type CountedEvent = Exclude<RingBackLogEvent, 'skipped'>;

export interface RingBackMetrics {
  /** One per change applied, undone, failed, forgotten (someone else took over), handed back, adopted or uncertain. */
  record(event: CountedEvent, labels: { queue: string; policy: RingBackPolicyName; cause: RingBackCause }): void;
}

export interface RingBackNotice {
  queue: string;
  iface: string;
  memberName: string;
  cooldownSec: number;
  policy: RingBackPolicyName;
}

export type Notify = (notice: RingBackNotice) => void | Promise<void>;

const MESSAGES: Record<RingBackLogEvent, [pause: string, penalty: string]> = {
  applied: ['ring-back: member paused after a missed ring', 'ring-back: member penalty raised after a missed ring'],
  undone: ['ring-back: our pause undone', 'ring-back: member penalty restored'],
  failed: ['ring-back: queue action refused, nothing to undo', 'ring-back: queue action refused, nothing to undo'],
  forgotten: ['ring-back: pause no longer ours to undo, left alone', 'ring-back: penalty no longer ours to undo, left alone'],
  handedBack: ['ring-back: member was paused by someone else first (autopause?); their pause and reason given back', 'ring-back: member was paused by someone else; our penalty put back'],
  adopted: ['ring-back: found a pause with our reason and no record of it', 'ring-back: found a change with no record of it'],
  uncertain: ['ring-back: queue action outcome unknown', 'ring-back: queue action outcome unknown'],
  skipped: ['ring-back: missed ring not acted on', 'ring-back: missed ring not acted on'],
};

export function report(
  e: Extract<RingBackEffect, { type: 'log' }>,
  deps: { logger: RingBackLogger; config: RingBackConfig; metrics?: RingBackMetrics },
): void {
  const { type: _type, level, event, memberName, reason: own, ...rest } = e;
  const reason = e.policy === 'pause' ? { reason: own ?? deps.config.reason } : {};
  deps.logger[level]({ ...rest, member: memberName, event, ...reason }, MESSAGES[event][e.policy === 'pause' ? 0 : 1]);
  if (event !== 'skipped') deps.metrics?.record(event, { queue: e.queue, policy: e.policy, cause: e.cause });
}

/** The notice is a courtesy: its failure is logged and never blocks the fix. */
export function sendNotice(e: Extract<RingBackEffect, { type: 'notify' }>, notify: Notify | undefined, logger: RingBackLogger): void {
  if (notify === undefined) return;
  const { type: _type, ...notice } = e;
  const fail = (err: unknown) => logger.warn({ queue: e.queue, iface: e.iface, err: (err as Error)?.message }, 'ring-back: agent notice failed');
  try {
    void Promise.resolve(notify(notice)).catch(fail);
  } catch (err) {
    fail(err);
  }
}
