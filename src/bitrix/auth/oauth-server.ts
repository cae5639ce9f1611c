import defaultGot, { type Got } from 'got';

/**
 * Bitrix24's OAuth server (`https://oauth.bitrix.info/oauth/token/`, or the region's): the two grants a local
 * application uses, refresh_token and authorization_code (Bitrix24 REST docs, settings/oauth/index.md and
 * auto-renewal.md). The request carries the client secret and a token in its query, as the docs show it: the
 * URL is never logged, and error texts are taken from the answer's fields only.
 */

export interface TokenGrant {
  accessToken: string;
  refreshToken: string;
  expiresInSec: number;
  clientEndpoint: string;
  serverEndpoint?: string;
  domain?: string;
  memberId?: string;
  scope?: string;
}

/** The OAuth server's refusal: invalid_grant (refresh token used, expired or revoked), invalid_client (app deleted)… */
export class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly httpStatus: number,
  ) {
    super(`OAuth server refused the grant (${error}${httpStatus ? `, HTTP ${httpStatus}` : ''})${description ? `: ${description}` : ''}`);
    this.name = 'OAuthError';
  }
}

/** No answer, or not one of the OAuth server's: try again later; the tokens are not known to be dead. */
export class OAuthUnavailableError extends Error {
  constructor(detail: string) {
    super(`OAuth server unreachable: ${detail}`);
    this.name = 'OAuthUnavailableError';
  }
}

export interface OAuthServerOptions {
  clientId: string;
  clientSecret: string;
  timeoutMs: number;
  got?: Got;
}

export const DEFAULT_OAUTH_URL = 'https://oauth.bitrix.info';

/** Bitrix24's OAuth servers (the EN and RU docs name these): an install's server_endpoint is used only if it is one. */
const KNOWN_OAUTH_HOSTS = new Set(['oauth.bitrix.info', 'oauth.bitrix24.tech']);

/**
 * The OAuth server: bitrix.app.oauthUrl, else the install's server_endpoint if it is Bitrix24's, else the default. The
 * client secret and the refresh token go there: never to a host an unauthenticated install form named.
 */
export function oauthBase(oauthUrl: string | undefined, serverEndpoint?: string): string {
  if (oauthUrl !== undefined) return oauthUrl;
  if (serverEndpoint !== undefined && URL.canParse(serverEndpoint)) {
    const u = new URL(serverEndpoint);
    if (u.protocol === 'https:' && KNOWN_OAUTH_HOSTS.has(u.hostname)) return `${u.protocol}//${u.host}`;
  }
  return DEFAULT_OAUTH_URL;
}

export interface OAuthServer {
  refresh(base: string, refreshToken: string): Promise<TokenGrant>;
  exchangeCode(base: string, code: string): Promise<TokenGrant>;
}

export function oauthServer(opts: OAuthServerOptions): OAuthServer {
  const http = opts.got ?? defaultGot;
  async function grant(base: string, params: Record<string, string>): Promise<TokenGrant> {
    const url = new URL('/oauth/token/', base);
    for (const [k, v] of Object.entries({ ...params, client_id: opts.clientId, client_secret: opts.clientSecret })) url.searchParams.set(k, v);
    let status = 0;
    let body: string;
    try {
      const response = await http.get(url, { responseType: 'text', throwHttpErrors: false, followRedirect: false, retry: { limit: 0 }, timeout: { request: opts.timeoutMs } });
      status = response.statusCode;
      body = response.body;
    } catch (err) {
      // got's messages do not include the URL; the code (ECONNREFUSED, ETIMEDOUT) is what matters.
      throw new OAuthUnavailableError((err as { code?: string }).code ?? (err as Error).name);
    }
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(body) as Record<string, unknown>;
    } catch {
      throw new OAuthUnavailableError(`HTTP ${status}, not a JSON answer`);
    }
    if (typeof parsed['error'] === 'string') throw new OAuthError(parsed['error'], String(parsed['error_description'] ?? ''), status);
    const access = parsed['access_token'];
    const refresh = parsed['refresh_token'];
    const clientEndpoint = parsed['client_endpoint'];
    if (typeof access !== 'string' || typeof refresh !== 'string' || typeof clientEndpoint !== 'string' || access === '' || refresh === '') {
      throw new OAuthUnavailableError(`HTTP ${status}, the answer has no token pair`);
    }
    const str = (k: string): string | undefined => (typeof parsed[k] === 'string' && parsed[k] !== '' ? (parsed[k] as string) : undefined);
    const expires = Number(parsed['expires_in']);
    return {
      accessToken: access,
      refreshToken: refresh,
      expiresInSec: Number.isFinite(expires) && expires > 0 ? expires : 3600,
      clientEndpoint,
      ...optional('serverEndpoint', str('server_endpoint')),
      ...optional('domain', str('domain')),
      ...optional('memberId', str('member_id')),
      ...optional('scope', str('scope')),
    };
  }
  return {
    refresh: (base, refreshToken) => grant(base, { grant_type: 'refresh_token', refresh_token: refreshToken }),
    exchangeCode: (base, code) => grant(base, { grant_type: 'authorization_code', code }),
  };
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}
