import type { EntryKind, OutboxStore } from '../outbox-entry.js';
import { absorbCardChange } from './coalesce.js';
import type { CallQueues, KeyQueue } from './queues.js';
import type { OutboxHooks, OutboxLogger } from './types.js';

/**
 * What a new command becomes before it joins its call's queue: refused (a second register or finish of a call, a
 * card of a finished call that can never get a CALL_ID, no room left), absorbed into commands still waiting (card
 * changes that cancel or merge), or queued with the params left over.
 */

export type Admission = { kind: 'refused' } | { kind: 'absorbed' } | { kind: 'queued'; params: Record<string, unknown> };

export interface AdmissionDeps {
  queues: CallQueues;
  store: OutboxStore;
  clock: () => number;
  logger: OutboxLogger;
  hooks: OutboxHooks;
  /** Bound on waiting commands. */
  maxEntries: number;
}

export class AdmissionRules {
  constructor(private readonly deps: AdmissionDeps) {}

  admit(key: string, kind: EntryKind, method: string, params: Record<string, unknown>, needsCallId: boolean): Admission {
    const { store, queues, logger, hooks } = this.deps;
    if ((kind === 'show' || kind === 'hide' || kind === 'attach') && needsCallId && !queues.canGetCallId(key) && store.isMarked(key, 'finish')) {
      // A finished call whose CALL_ID is forgotten (or never came): nothing will ever give it one, and queued
      // it would wait forever and hold up every drain.
      logger.warn({ key, kind, method }, 'outbox: command dropped: its call is finished and has no CALL_ID');
      return { kind: 'refused' };
    }
    if (kind === 'register' || kind === 'finish' || kind === 'transcript') {
      // A call is registered once, finished once and given one transcript, whatever replays, resyncs or restarts happen upstream.
      if (store.isMarked(key, kind)) {
        logger.debug({ key, kind }, 'outbox: duplicate dropped');
        hooks.onDuplicate?.(kind);
        return { kind: 'refused' };
      }
    }
    if (!this.hasRoom(kind)) return { kind: 'refused' };
    if (kind === 'register' || kind === 'finish' || kind === 'transcript') store.mark(key, kind, this.deps.clock());
    const q = queues.queue(key);
    if (kind === 'finish') this.dropPendingShow(q, params['USER_ID']);
    if (kind === 'show' || kind === 'hide') {
      const { rest, emptied, changed } = absorbCardChange(q.entries, kind, params['USER_ID'] as number[], (e) => queues.isMovable(e));
      for (const e of emptied) queues.remove(q, e);
      for (const e of changed) store.put(e);
      if (rest.length === 0) return { kind: 'absorbed' };
      return { kind: 'queued', params: { ...params, USER_ID: rest } };
    }
    return { kind: 'queued', params };
  }

  /**
   * The outbox never grows without limit. Past 80 % of the bound new cards are dropped (a card for a call
   * that waited that long is useless); at the bound every new command is refused, loudly.
   */
  private hasRoom(kind: EntryKind): boolean {
    if (this.fits(kind)) return true;
    const { maxEntries: max, queues } = this.deps;
    this.deps.logger.error({ depth: queues.depth, max, kind }, 'outbox is full: command dropped (is the portal down for long?)');
    this.deps.hooks.onDropped?.(kind);
    return false;
  }

  /** Whether a command of this kind would find room now (the bound above), asked without dropping anything. */
  fits(kind: EntryKind): boolean {
    const max = this.deps.maxEntries;
    const cards = kind === 'show' || kind === 'hide';
    return this.deps.queues.depth < (cards ? max * 0.8 : max);
  }

  /** The finishing user's card closes with the finish: a show still waiting for them is pointless. */
  private dropPendingShow(q: KeyQueue, userId: unknown): void {
    const { queues, store } = this.deps;
    for (const e of [...q.entries]) {
      // What is on the wire, or may have landed before, may already be shown.
      if (e.kind !== 'show' || !queues.isMovable(e)) continue;
      const users = (e.params['USER_ID'] as number[]).filter((u) => u !== userId);
      if (users.length === 0) queues.remove(q, e);
      else if (users.length !== (e.params['USER_ID'] as number[]).length) {
        e.params['USER_ID'] = users;
        store.put(e);
      }
    }
  }
}
