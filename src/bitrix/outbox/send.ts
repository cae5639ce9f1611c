import type { BatchCommand, BitrixClient } from '../client.js';
import type { OutboxStore } from '../outbox-entry.js';
import type { CallQueues } from './queues.js';
import { toBitrixError } from './retry-policy.js';
import type { Planned, Settler } from './settle.js';
import type { OutboxHooks, OutboxLogger } from './types.js';
import { resolveUsers } from './user-resolve.js';

/**
 * Puts one planned batch on the wire. Its commands are written as uncertain before it leaves (after a kill -9 it may
 * have landed: a finish the portal then calls unknown was delivered); the answer, or the failure, goes to the
 * settler, which writes the real state back.
 */

export interface BatchSenderDeps {
  client: BitrixClient;
  queues: CallQueues;
  store: OutboxStore;
  settler: Settler;
  logger: OutboxLogger;
  hooks: OutboxHooks;
  /** The whole request failed with a retryable error: nothing leaves before `until`. */
  pause: (until: number) => void;
  /** A batch settled: its calls may send again. */
  next: () => void;
  /** Extension -> Bitrix24 user now (see user-resolve.ts). */
  resolveUser?: ((ext: string) => number | undefined) | undefined;
}

export class BatchSender {
  /** Batches on the wire. */
  inFlight = 0;

  constructor(private readonly deps: BatchSenderDeps) {}

  send(commands: BatchCommand[], planned: Planned[]): void {
    const { queues, store, settler } = this.deps;
    const keys = new Set(planned.map((p) => p.entry.key));
    for (const k of keys) queues.queue(k).inFlight = true;
    for (const p of planned) queues.sending.add(p.entry.seq);
    if (this.deps.resolveUser) resolveUsers(planned, commands, this.deps.resolveUser);
    for (const p of planned) store.put({ ...p.entry, uncertain: true });
    store.commit?.();
    this.inFlight++;
    this.deps.hooks.onBatch?.(commands.length);
    this.deps.client
      .batch(commands)
      .then(
        (outcome) => settler.settle(planned, (cmdKey) => ({ result: outcome.results[cmdKey], error: outcome.errors[cmdKey] })),
        (err: unknown) => {
          const until = settler.failAll(planned, toBitrixError(err));
          if (until !== undefined) this.deps.pause(until);
        },
      )
      .catch((err: unknown) => this.deps.logger.error({ err }, 'outbox: settling a batch failed'))
      .finally(() => {
        for (const k of keys) {
          const q = queues.get(k);
          if (!q) continue;
          q.inFlight = false;
          // Only now may a finished call be forgotten: while in flight it was kept on purpose.
          queues.forgetIfDone(k, q);
        }
        for (const p of planned) queues.sending.delete(p.entry.seq);
        this.inFlight--;
        this.deps.next();
      });
  }
}
