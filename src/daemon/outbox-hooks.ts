import type { OutboxHooks } from '../bitrix/outbox.js';
import type { OutboxEntry } from '../bitrix/outbox-entry.js';
import { callLogger, type Logger } from '../obs/logger.js';
import type { Problems } from './problems.js';

/**
 * What the daemon does when the outbox reports: metrics, the journal line tying a linkedid to Bitrix24's CALL_ID,
 * whether the portal is being retried (for /healthz), and the parts that listen for delivered commands (the CRM
 * features). Listeners run after the outbox has finished settling the batch, never inside it: a listener that
 * enqueues (a timeline comment after a register) starts a new turn of the outbox instead of re-entering the one in
 * progress.
 */

export type DeliveredListener = (entry: OutboxEntry, result: unknown) => void;

export function outboxHooks(deps: { logger: Logger; problems: Problems; metrics?: OutboxHooks }): { outbox: OutboxHooks; onDelivered(listener: DeliveredListener): void } {
  const { logger, problems } = deps;
  const mh = deps.metrics;
  const listeners: DeliveredListener[] = [];
  const outbox: OutboxHooks = {
    onBatch: (n) => mh?.onBatch?.(n),
    onDelivered: (e, r) => {
      // The line that ties Asterisk's linkedid to Bitrix24's CALL_ID in the journal.
      const callId = e.kind === 'register' ? (r as { CALL_ID?: unknown } | undefined)?.CALL_ID : undefined;
      if (typeof callId === 'string') callLogger(logger, { linkedid: e.key, callId }).info({}, 'Bitrix24 registered the call');
      problems.clear('retrying');
      mh?.onDelivered?.(e, r);
      queueMicrotask(() => {
        for (const listener of listeners) listener(e, r);
      });
    },
    onRetry: (e, err) => {
      problems.set('retrying', `portal: ${err.message}`, false);
      mh?.onRetry?.(e, err);
    },
    onParked: (p) => mh?.onParked?.(p),
    onDuplicate: (k) => mh?.onDuplicate?.(k),
    onDropped: (k) => mh?.onDropped?.(k),
    onLimiterWait: (ms) => mh?.onLimiterWait?.(ms),
  };
  return { outbox, onDelivered: (listener) => listeners.push(listener) };
}
