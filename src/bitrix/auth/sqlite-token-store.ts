import { kvGet, kvSet, type StateDb } from '../../store/db.js';
import type { AppTokens, TokenStore } from './tokens.js';

/**
 * The OAuth pair in the state store's key-value table: one row, replaced in one statement (atomic in SQLite), so a
 * kill -9 right after a refresh leaves either the old pair or the new one. The pair is written before it is used:
 * a refresh token Bitrix24 has already rotated away is never the only copy.
 */
const KEY = 'oauth.tokens';

export function sqliteTokenStore(db: StateDb, clock: () => number = Date.now, commitNow?: () => void): TokenStore {
  return {
    load: () => kvGet<AppTokens>(db, KEY),
    save: (tokens) => {
      kvSet(db, KEY, tokens, clock());
      // In the daemon the outbox may hold this connection's transaction open until the end of the turn, and the new
      // access token may leave before that: the pair is committed now, so a kill -9 cannot outrun it.
      commitNow?.();
    },
  };
}
