import type { OutboxStore } from '../bitrix/outbox-entry.js';
import type { Logger } from '../obs/logger.js';
import { openStateDb, type StateDb } from '../store/db.js';
import { SqliteOutboxStore } from '../store/sqlite-outbox-store.js';
import type { Problems } from './problems.js';

/**
 * The state store and its failure policy: when the disk is full or read-only the daemon keeps serving from memory
 * and says so once per failure streak (and in /healthz); when writes work again, `onRecovered` rewrites what came
 * and went meanwhile over the stale copy.
 */

export interface StateStore {
  /** undefined when a test passes its own store (no disk). */
  db: StateDb | undefined;
  store: OutboxStore;
  /** Set once the parts that hold state in memory exist (outbox, core). */
  onRecovered(rewrite: () => void): void;
  flushAndClose(): void;
  /** Parked commands the `parked --retry` CLI asked to send again (through the database). */
  takeRetryRequests(): number[];
  /** Small values written with the current turn's commands (the rate limiter's level); none without a database. */
  turnWriter: SqliteOutboxStore | undefined;
}

export function openStateStore(dir: string, deps: { store?: OutboxStore; logger: Logger; problems: Problems }): StateStore {
  if (deps.store) {
    const store = deps.store;
    return { db: undefined, store, onRecovered() {}, flushAndClose() {}, takeRetryRequests: () => [], turnWriter: undefined };
  }
  const db = openStateDb(dir);
  let failing = false;
  const sqlite = new SqliteOutboxStore(db, (err, op) => {
    deps.problems.set('store', `state store ${op}: ${err.message}`, false);
    if (!failing) deps.logger.error({ err, op, dir }, 'state store write failed; continuing from memory (restart safety lost until it recovers)');
    failing = true;
  });
  return {
    db,
    store: sqlite,
    onRecovered(rewrite) {
      sqlite.onRecovered = () => {
        rewrite();
        failing = false;
        deps.problems.clear('store');
        deps.logger.warn({ dir }, 'state store writable again; rewrote the waiting commands and the call state from memory');
      };
    },
    flushAndClose() {
      sqlite.flush();
      db.close();
    },
    takeRetryRequests: () => sqlite.takeRetryRequests(),
    turnWriter: sqlite,
  };
}
