/**
 * Application auth on `/rest/{method}` as source rest/lib/oauth/auth.php does it: the token comes from an
 * `Authorization: Bearer` header, else from the `auth` or `access_token` parameter (not an array); the checks run
 * in the source's order (unknown token, app gone, expired, user); the auth parameters are removed before the
 * method sees its params (`parameters_clear`). Scopes are checked per method by the dispatcher.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { PortalApp } from './app/portal-app.js';
import type { CallerAuth } from './dispatch.js';
import { RestError, systemErrors } from './envelope.js';
import type { Params } from './php.js';
import type { EmulatorState } from './state.js';
import type { RequestAuth } from './types.js';

const AUTH_PARAMS = ['auth', 'access_token', 'auth_connector'];

export type AuthOutcome =
  | { ok: true; auth: CallerAuth; record: RequestAuth }
  | { ok: false; error: RestError; record: RequestAuth };

/** The token, as getAuthKey finds it; undefined when there is none. */
export function accessTokenOf(headers: IncomingHttpHeaders, params: Params): string | undefined {
  const header = headers.authorization;
  if (header !== undefined && /^Bearer\s+/i.test(header)) return header.replace(/^Bearer\s+/i, '');
  for (const key of ['auth', 'access_token']) {
    const value = params[key];
    if (value !== undefined && (typeof value === 'string' || typeof value === 'number')) return String(value);
  }
  return undefined;
}

/** Removes what the auth layer consumed; returns the cleaned params. */
export function withoutAuthParams(params: Params): Params {
  const out: Params = {};
  for (const [k, v] of Object.entries(params)) if (!AUTH_PARAMS.includes(k)) out[k] = v;
  return out;
}

export function authenticateApp(
  app: PortalApp | null,
  state: EmulatorState,
  headers: IncomingHttpHeaders,
  params: Params,
): AuthOutcome {
  const token = accessTokenOf(headers, params);
  if (token === undefined) {
    return { ok: false, error: systemErrors.noAuthFound(), record: appRecord(null, false, 'missing') };
  }
  const row = app?.tokens.findAccess(token);
  if (!app || !row) return { ok: false, error: systemErrors.invalidToken(), record: appRecord(null, false, 'invalid') };
  const record = (outcome: AppOutcome) => appRecord(row.serial, row.supersededAt !== null, outcome);
  if (row.invalidated) return { ok: false, error: systemErrors.invalidToken(), record: record('invalid') };
  // AppTable::getByClientId runs before the expiry check.
  if (app.deleted) return { ok: false, error: systemErrors.applicationNotFound(), record: record('app-not-found') };
  if (app.tokens.isExpired(row)) return { ok: false, error: systemErrors.expiredToken(), record: record('expired') };
  const user = state.users.get(row.userId);
  if (!user || !user.active) return { ok: false, error: systemErrors.authorizationError(), record: record('user-inactive') };
  return {
    ok: true,
    auth: { type: 'app', userId: row.userId, scopes: app.config.scopes, appId: app.id, accessToken: token },
    record: record('ok'),
  };
}

type AppOutcome = Extract<RequestAuth, { type: 'app' }>['outcome'];

function appRecord(tokenSerial: number | null, superseded: boolean, outcome: AppOutcome): RequestAuth {
  return { type: 'app', tokenSerial, superseded, outcome };
}
