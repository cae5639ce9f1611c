import type { BitrixError } from '../errors.js';
import type { OutboxEntry, OutboxStore } from '../outbox-entry.js';
import type { CallQueues } from './queues.js';
import { mayHaveExecuted } from './retry-policy.js';
import type { OutboxHooks, OutboxLogger } from './types.js';

/**
 * What an answer (or its absence) does to the commands of a request: delivered, retried later with backoff, or
 * parked. Retries have exactly one owner: here.
 */

/** A command in a batch, with its key in the batch's `cmd`. */
export interface Planned {
  entry: OutboxEntry;
  cmdKey: string;
}

const FINISH_GONE = /Call is not found/i;

export interface SettlerDeps {
  queues: CallQueues;
  store: OutboxStore;
  clock: () => number;
  logger: OutboxLogger;
  hooks: OutboxHooks;
  /** Backoff before attempt number `attempts + 1`, in ms. */
  backoff: (attempts: number) => number;
  /** Who refused a whole request and what the admin fixes, e.g. "webhook ... fix bitrix.webhookUrl". */
  refusal: RefusalAdvice;
}

/** The words of a parked command's reason when the portal refuses a whole request: they depend on the auth mode. */
export interface RefusalAdvice {
  who: string;
  fix: string;
}

export const WEBHOOK_REFUSAL: RefusalAdvice = { who: 'webhook', fix: 'fix bitrix.webhookUrl' };
export const APP_REFUSAL: RefusalAdvice = {
  who: 'portal',
  fix: 'check bitrix.app.portalUrl and that the local application is installed (asterisk-b24-bridge auth --config FILE)',
};

export class Settler {
  constructor(private readonly deps: SettlerDeps) {}

  /** The portal answered the batch: each command by its own result or error. */
  settle(planned: readonly Planned[], outcomeOf: (cmdKey: string) => { result: unknown; error?: BitrixError | undefined }): void {
    const { queues, store } = this.deps;
    let registerFailure: BitrixError | undefined;
    for (const { entry, cmdKey } of planned) {
      const q = queues.queue(entry.key);
      // Already parked with its register.
      if (!q.entries.includes(entry)) continue;
      if (registerFailure && entry.needsCallId && q.callId === undefined) {
        // Its CALL_ID reference resolved to nothing: the command itself is fine, it waits for the register.
        store.put(entry);
        continue;
      }
      const { result, error } = outcomeOf(cmdKey);
      if (!error) {
        queues.delivered(entry, result);
        continue;
      }
      if (entry.kind === 'register') registerFailure = error;
      if (entry.kind === 'finish' && entry.uncertain && FINISH_GONE.test(error.description)) {
        // An earlier attempt whose answer was lost did finish the call.
        queues.delivered(entry, undefined);
      } else if (error.kind === 'retryable') this.retryLater(entry, error);
      else queues.park(entry, `${error.errorCode}: ${error.description}`);
    }
  }

  /**
   * The whole request failed. Retryable (portal down, rate limited, resets): nothing is parked, everything waits
   * and retries; returns until when the outbox sends nothing. Fatal: see parkAll.
   */
  failAll(planned: readonly Planned[], error: BitrixError): number | undefined {
    if (error.kind === 'fatal') {
      this.parkAll(planned, error);
      return undefined;
    }
    this.deps.logger.warn({ code: error.errorCode, status: error.httpStatus, commands: planned.length }, `outbox: batch failed: ${error.description}`);
    let delay = 0;
    for (const { entry } of planned) {
      entry.attempts++;
      entry.uncertain ||= mayHaveExecuted(error);
      entry.lastError = `${error.errorCode}: ${error.description}`;
      delay = Math.max(delay, this.deps.backoff(entry.attempts));
      this.deps.store.put(entry);
      this.deps.hooks.onRetry?.(entry, error);
    }
    return this.deps.clock() + delay;
  }

  /** A command failed in a way retrying may fix: it waits its backoff in its queue. */
  retryLater(entry: OutboxEntry, error: BitrixError): void {
    entry.attempts++;
    // A sub-command's own error means it ran and failed; an attachment's network error may have landed.
    if (entry.kind === 'attach' || entry.kind === 'transcript') entry.uncertain ||= mayHaveExecuted(error);
    entry.lastError = `${error.errorCode}: ${error.description}`;
    entry.notBefore = this.deps.clock() + this.deps.backoff(entry.attempts);
    this.deps.store.put(entry);
    this.deps.hooks.onRetry?.(entry, error);
  }

  /**
   * The portal refused the whole request (401/403/404, a redirect): the webhook (or the application's portal
   * address) is wrong, and retrying cannot fix it. Each command is parked (logged with its method and params; the
   * error never holds the URL) for an admin to retry once it is fixed.
   */
  private parkAll(planned: readonly Planned[], error: BitrixError): void {
    const status = error.httpStatus === undefined ? '' : ` HTTP ${error.httpStatus}`;
    const { who, fix } = this.deps.refusal;
    // Only a refused address or authorisation is the webhook's (or the portal address's) fault; a request the
    // portal rejects for its content is not, and naming a setting to fix would send the admin the wrong way.
    const blameAddress = error.errorCode === 'AUTH' || error.errorCode === 'METHOD_NOT_FOUND' || isRedirect(error.httpStatus);
    const why = `${blameAddress ? who : 'the portal'} refused the request (${error.errorCode}${status}${error.code ? ` ${error.code}` : ''}): ${error.description}; ${blameAddress ? `${fix}, then ` : ''}run: parked --retry-all`;
    this.deps.logger.error({ code: error.errorCode, status: error.httpStatus, commands: planned.length }, `outbox: ${why}`);
    for (const { entry } of planned) {
      const q = this.deps.queues.queue(entry.key);
      // A register parked earlier in this loop took its dependents with it.
      if (!q.entries.includes(entry)) continue;
      entry.attempts++;
      this.deps.queues.park(entry, why);
    }
  }
}

function isRedirect(status: number | undefined): boolean {
  return status !== undefined && status >= 300 && status < 400;
}
