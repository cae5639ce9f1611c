import type { AppAuth } from '../bitrix/auth/app-auth.js';
import { OAuthError, OAuthUnavailableError, oauthBase, type OAuthServer, type TokenGrant } from '../bitrix/auth/oauth-server.js';
import type { AppConfig } from '../config/schema.js';
import type { HttpErrorCode } from '../http/types.js';

/**
 * The two ways a local application gets its tokens, both checked the same way before anything is stored:
 * - the install callback (ONAPPINSTALL POSTs auth[...] to http.installPath), and
 * - the full OAuth protocol for a bridge Bitrix24 cannot reach: the admin opens the authorize URL, and the code comes
 *   back through the browser's redirect or `auth --code` (it lives 30 s), exchanged with grant_type=authorization_code
 *   (Bitrix24 REST docs, settings/oauth/index.md).
 * The portal must be the configured one (domain and REST endpoint), the member_id the one already installed, and the
 * tokens must be this application's: an install's refresh token is redeemed once with our client_id and secret, which
 * the OAuth server refuses for any other application's tokens. A refused install stores nothing.
 */

export type AuthorizeResult = { ok: true; domain: string; memberId: string } | { ok: false; code: HttpErrorCode; message: string };

export interface AuthorizeDeps {
  app: AppConfig;
  auth: AppAuth;
  oauth: OAuthServer;
  /** After new tokens are stored: the event bindings are made again (an install drops them). */
  onAuthorised: () => void;
}


/** `<portal>/oauth/authorize/?client_id=…&state=…`: opened by an admin of the portal in a browser. */
export function authorizeUrl(app: Pick<AppConfig, 'portalUrl' | 'clientId'>, state: string): string {
  const url = new URL('/oauth/authorize/', app.portalUrl);
  url.searchParams.set('client_id', app.clientId);
  url.searchParams.set('state', state);
  return url.href;
}

export interface InstallFields {
  accessToken?: string;
  refreshToken?: string;
  expiresIn?: string;
  applicationToken?: string;
  memberId?: string;
  domain?: string;
  serverEndpoint?: string;
  clientEndpoint?: string;
}

/** ONAPPINSTALL: checks the portal and the installation, proves the tokens are ours, stores the rotated pair. */
export async function acceptInstall(f: InstallFields, deps: AuthorizeDeps): Promise<AuthorizeResult> {
  const missing = (['accessToken', 'refreshToken', 'applicationToken', 'memberId', 'domain', 'clientEndpoint'] as const).filter((k) => !f[k]);
  if (missing.length > 0) return refuse('BAD_REQUEST', `install without ${missing.map(formName).join(', ')}`);
  const portal = checkPortal(deps, f.domain!, f.clientEndpoint!, f.memberId!);
  if (portal) return portal;
  let grant: TokenGrant;
  try {
    grant = await deps.oauth.refresh(oauthBase(deps.app.oauthUrl, f.serverEndpoint), f.refreshToken!);
  } catch (err) {
    return fromOAuthError(err, 'the install\'s tokens are not this application\'s (refresh refused)');
  }
  // A token answer's `domain` is the OAuth server's: the portal is its client_endpoint.
  const again = checkPortal(deps, f.domain!, grant.clientEndpoint, grant.memberId ?? f.memberId!);
  if (again) return again;
  deps.auth.install({ ...grant, domain: f.domain!, memberId: f.memberId!, applicationToken: f.applicationToken!, ...(grant.serverEndpoint ?? f.serverEndpoint ? { serverEndpoint: grant.serverEndpoint ?? f.serverEndpoint } : {}) });
  deps.onAuthorised();
  return { ok: true, domain: f.domain!, memberId: f.memberId! };
}

/** An authorisation code (from the redirect or `auth --code`): exchanged, checked, stored. */
export async function acceptCode(code: string, deps: AuthorizeDeps): Promise<AuthorizeResult> {
  if (!/^[A-Za-z0-9._-]{1,256}$/.test(code)) return refuse('BAD_REQUEST', 'the code is malformed');
  let grant: TokenGrant;
  try {
    grant = await deps.oauth.exchangeCode(oauthBase(deps.app.oauthUrl, deps.auth.current()?.serverEndpoint), code);
  } catch (err) {
    return fromOAuthError(err, 'the code was refused (it lives 30 s and is single use: open the authorize URL again)');
  }
  // A token answer's `domain` is the OAuth server's (oauth.bitrix.info): the portal is its client_endpoint.
  const domain = hostOf(grant.clientEndpoint);
  if (grant.memberId === undefined || domain === undefined) return refuse('BAD_REQUEST', 'the OAuth server did not say which portal the code is for');
  const portal = checkPortal(deps, domain, grant.clientEndpoint, grant.memberId);
  if (portal) return portal;
  deps.auth.install({ ...grant, domain, memberId: grant.memberId });
  deps.onAuthorised();
  return { ok: true, domain, memberId: grant.memberId };
}

function checkPortal(deps: AuthorizeDeps, domain: string, clientEndpoint: string, memberId: string): AuthorizeResult | undefined {
  const expected = new URL(deps.app.portalUrl).host.toLowerCase();
  if (domain.toLowerCase() !== expected) return refuse('FORBIDDEN', `the install is for ${domain}, not for bitrix.app.portalUrl (${expected})`);
  if (hostOf(clientEndpoint) !== expected) return refuse('FORBIDDEN', 'the install\'s REST endpoint is not on bitrix.app.portalUrl');
  const current = deps.auth.current();
  if (current !== undefined && current.domain.toLowerCase() === expected && current.memberId !== memberId) {
    return refuse('FORBIDDEN', 'the install\'s member_id differs from the installation this bridge knows');
  }
  return undefined;
}

function fromOAuthError(err: unknown, refusal: string): AuthorizeResult {
  if (err instanceof OAuthError) return refuse('FORBIDDEN', `${refusal}: ${err.error}`);
  if (err instanceof OAuthUnavailableError) return refuse('PORTAL_UNAVAILABLE', err.message);
  throw err;
}

function hostOf(url: string): string | undefined {
  return URL.canParse(url) ? new URL(url).host.toLowerCase() : undefined;
}

function formName(k: string): string {
  return `auth[${k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}]`;
}

function refuse(code: HttpErrorCode, message: string): AuthorizeResult {
  return { ok: false, code, message };
}
