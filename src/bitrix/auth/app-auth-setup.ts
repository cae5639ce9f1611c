import type { StateDb } from '../../store/db.js';
import { AppAuth } from './app-auth.js';
import { oauthServer, type OAuthServer } from './oauth-server.js';
import { sqliteTokenStore } from './sqlite-token-store.js';
import type { AppTokens, TokenStore } from './tokens.js';

/**
 * The application's authorisation as the daemon, `check` and `auth` all build it: the OAuth server with the
 * application's credentials and the token pair in the state store they share (in memory for tests without one).
 */

export interface AppCredentials {
  clientId: string;
  clientSecret: string;
  oauthUrl?: string | undefined;
}

type AuthLogger = ConstructorParameters<typeof AppAuth>[0]['logger'];

const quiet: AuthLogger = { info() {}, warn() {}, error() {} };

export function appAuthFromState(
  app: AppCredentials,
  db: StateDb | undefined,
  o: { timeoutMs: number; clock?: () => number; logger?: AuthLogger; commitNow?: () => void; onRevived?: () => void },
): { auth: AppAuth; oauth: OAuthServer } {
  const clock = o.clock ?? Date.now;
  const store = db ? sqliteTokenStore(db, clock, o.commitNow) : memoryTokenStore();
  const oauth = oauthServer({ clientId: app.clientId, clientSecret: app.clientSecret, timeoutMs: o.timeoutMs });
  const auth = new AppAuth({ store, oauth, oauthUrl: app.oauthUrl, clock, logger: o.logger ?? quiet, ...(o.onRevived ? { onRevived: o.onRevived } : {}) });
  return { auth, oauth };
}

/** Tests that run without a state database. */
function memoryTokenStore(): TokenStore {
  let tokens: AppTokens | undefined;
  return { load: () => tokens, save: (t) => void (tokens = t) };
}
