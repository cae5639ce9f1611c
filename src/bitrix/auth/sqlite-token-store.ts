import { kvGet, kvSet, type StateDb } from '../../store/db.js';
import type { AppTokens, TokenStore } from './tokens.js';

/**
 * The OAuth pair in the state store's key-value table: one row, replaced in one statement (atomic in SQLite), so a
 * kill -9 right after a refresh leaves either the old pair or the new one. The pair is written before it is used:
 * a refresh token Bitrix24 has already rotated away is never the only copy.
 */
const KEY = 'oauth.tokens';

export function sqliteTokenStore(db: StateDb, clock: () => number = Date.now): TokenStore {
  return {
    load: () => kvGet<AppTokens>(db, KEY),
    save: (tokens) => kvSet(db, KEY, tokens, clock()),
  };
}
