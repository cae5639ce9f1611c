import { randomBytes } from 'node:crypto';
import { kvGet, kvSet, type StateDb } from '../store/db.js';
import type { PendingAuthorization } from './install-route.js';

/**
 * The OAuth `state` of an authorisation in progress: written by `auth` (another process), read once by the
 * daemon's redirect handler, through the state store they share. Fresh for 15 minutes.
 */
const KEY = 'oauth.pendingState';
const FRESH_MS = 15 * 60 * 1000;

export function newPendingState(db: StateDb, clock: () => number = Date.now): string {
  const state = randomBytes(16).toString('hex');
  kvSet(db, KEY, { state, at: clock() }, clock());
  return state;
}

export function pendingAuthorization(db: StateDb | undefined, clock: () => number = Date.now): PendingAuthorization {
  return {
    state() {
      const saved = db ? kvGet<{ state: string; at: number }>(db, KEY) : undefined;
      return saved !== undefined && clock() - saved.at < FRESH_MS ? saved.state : undefined;
    },
    clear() {
      if (db) kvSet(db, KEY, { state: '', at: 0 }, clock());
    },
  };
}
