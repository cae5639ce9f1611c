import type { BitrixError } from '../errors.js';
import { appModeRefusal } from '../auth-refusals.js';
import { AuthRequiredError, type RestAuth, type RestCredentials } from './rest-auth.js';
import { OAuthError, OAuthUnavailableError, oauthBase, type OAuthServer, type TokenGrant } from './oauth-server.js';
import { REFRESH_TOKEN_LIFETIME_MS, type AppTokens, type TokenStore } from './tokens.js';

/**
 * A local application's authorisation: the access token for each request, renewed on demand only (Bitrix24 warns
 * that an application refreshing on a timer may be blocked), one refresh at a time however many requests met the
 * expired token, and the new pair written to the state store before it is used. Another process on the same state
 * store (`check`, `auth --code`) may rotate the pair too: a newer generation in the store always wins, and a refresh
 * the OAuth server refuses is checked against the store before the tokens are declared dead.
 */

export interface AppAuthOptions {
  store: TokenStore;
  oauth: OAuthServer;
  /** bitrix.app.oauthUrl: wins over the install's server_endpoint. */
  oauthUrl: string | undefined;
  clock: () => number;
  logger: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  /** Tokens came back after none or dead ones (another process wrote a pair: `auth --code`): bind events again. */
  onRevived?: () => void;
}

export type AppAuthStatus =
  | { state: 'authorised'; domain: string; refreshTokenExpiresAt: number; generation: number }
  | { state: 'required'; reason: string; advice: string };

/** Access tokens are renewed this long before the expiry they came with, so a request rarely meets a 401. */
const EXPIRY_MARGIN_MS = 30_000;

export const ADVICE = {
  notInstalled: 'install the local application on the portal (its install callback reaches http.installPath) or run: asterisk-b24-bridge auth --config FILE',
  invalidGrant: 'the refresh token expired or was revoked: run asterisk-b24-bridge auth --config FILE (or reinstall the application)',
  invalidClient: 'Bitrix24 does not know this application (deleted, or wrong bitrix.app.clientId/clientSecret): check them, reinstall the application, then run asterisk-b24-bridge auth --config FILE',
  unreachable: 'the OAuth server could not be reached; retrying with the next request',
} as const;

export class AppAuth implements RestAuth {
  readonly mode = 'app' as const;
  private tokens: AppTokens | undefined;
  private refreshing: Promise<void> | undefined;
  private dead: { reason: string; advice: string } | undefined;

  constructor(private readonly opts: AppAuthOptions) {
    this.tokens = opts.store.load();
  }

  async credentials(): Promise<RestCredentials> {
    let t = this.usable();
    // A tenth of the token's life, at most 30 s: a short-lived token (tests) is not renewed on every request.
    const margin = Math.min(EXPIRY_MARGIN_MS, (t.expiresAt - t.issuedAt) / 10);
    if (t.expiresAt - margin <= this.opts.clock()) {
      // Known to be expired: renewed now (on demand), instead of spending a request and a rate-limit slot on a 401.
      await this.renew(t.accessToken);
      t = this.usable();
    }
    return { base: t.clientEndpoint, accessToken: t.accessToken };
  }

  renew(expiredToken: string): Promise<void> {
    // Another request already renewed it: nothing to do.
    if (this.tokens !== undefined && this.tokens.accessToken !== expiredToken) return Promise.resolve();
    this.refreshing ??= this.refresh().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /** A new pair from the install callback or the authorisation code: written, then used. */
  install(grant: TokenGrant & { domain: string; memberId: string; applicationToken?: string }): AppTokens {
    const previous = this.newest();
    // An authorisation code carries no application_token: the install's is kept for checking events.
    const applicationToken = grant.applicationToken ?? previous?.applicationToken;
    const tokens = this.pairFrom(grant, {
      domain: grant.domain,
      memberId: grant.memberId,
      ...(applicationToken !== undefined ? { applicationToken } : {}),
      generation: (previous?.generation ?? 0) + 1,
    });
    this.opts.store.save(tokens);
    // Its caller binds the events itself (onAuthorised): not revived as a pair another process wrote would be.
    this.adopt(tokens, false);
    return tokens;
  }

  /** The tokens in use (or stored), for the install check and event checks; undefined before any install. */
  current(): AppTokens | undefined {
    return this.newest();
  }

  status(): AppAuthStatus {
    try {
      const t = this.usable();
      return { state: 'authorised', domain: t.domain, refreshTokenExpiresAt: t.issuedAt + REFRESH_TOKEN_LIFETIME_MS, generation: t.generation };
    } catch (err) {
      const e = err as AuthRequiredError;
      return { state: 'required', reason: e.reason, advice: e.advice };
    }
  }

  /** A whole request refused for its authorisation or the portal's plan waits for an admin (never parked). */
  refusal(error: BitrixError): BitrixError {
    return appModeRefusal(error);
  }

  secrets(): string[] {
    const t = this.tokens;
    return t === undefined ? [] : [t.accessToken, t.refreshToken, ...(t.applicationToken !== undefined ? [t.applicationToken] : [])];
  }

  /** The pair to use, or AuthRequiredError; while dead (or never installed), a newer pair in the store revives it. */
  private usable(): AppTokens {
    const newest = this.newest();
    if (newest !== this.tokens && newest !== undefined) this.adopt(newest);
    if (this.dead) throw new AuthRequiredError(this.dead.reason, this.dead.advice);
    if (this.tokens === undefined) throw new AuthRequiredError('not_installed', ADVICE.notInstalled);
    return this.tokens;
  }

  /** The newer of the pair held and the pair stored (another process may have written one). */
  private newest(): AppTokens | undefined {
    const stored = this.opts.store.load();
    if (stored === undefined) return this.tokens;
    if (this.tokens === undefined || stored.generation > this.tokens.generation) return stored;
    return this.tokens;
  }

  private adopt(tokens: AppTokens, tell = true): void {
    const revived = this.dead !== undefined || this.tokens === undefined;
    this.tokens = tokens;
    this.dead = undefined;
    if (!revived) return;
    this.opts.logger.info({ generation: tokens.generation }, 'Bitrix24 application authorised');
    if (tell) this.opts.onRevived?.();
  }

  /** A pair as it came from the OAuth server, over what it does not say (installation, generation). */
  private pairFrom(grant: TokenGrant, base: Pick<AppTokens, 'domain' | 'memberId' | 'generation'> & Partial<AppTokens>): AppTokens {
    const now = this.opts.clock();
    return {
      ...base,
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      expiresAt: now + grant.expiresInSec * 1000,
      issuedAt: now,
      clientEndpoint: grant.clientEndpoint,
      ...(grant.serverEndpoint !== undefined ? { serverEndpoint: grant.serverEndpoint } : {}),
      ...(grant.scope !== undefined ? { scope: grant.scope } : {}),
    };
  }

  private async refresh(): Promise<void> {
    const held = this.usable();
    const base = oauthBase(this.opts.oauthUrl, held.serverEndpoint);
    let grant: TokenGrant;
    try {
      grant = await this.opts.oauth.refresh(base, held.refreshToken);
    } catch (err) {
      // Refused because another process rotated the pair meanwhile: its newer pair is in the store.
      const newest = this.newest();
      if (newest !== undefined && newest.generation > held.generation) return this.adopt(newest);
      if (err instanceof OAuthUnavailableError) throw new AuthRequiredError('oauth_unreachable', ADVICE.unreachable);
      if (!(err instanceof OAuthError)) throw err;
      const advice = err.error === 'invalid_grant' ? ADVICE.invalidGrant : err.error === 'invalid_client' ? ADVICE.invalidClient : `the OAuth server refused the refresh (${err.error}): ${ADVICE.invalidGrant}`;
      this.dead = { reason: err.error, advice };
      this.opts.logger.error({ reason: err.error, description: err.description }, `Bitrix24 application needs an admin: ${advice}; commands wait in the outbox`);
      throw new AuthRequiredError(err.error, advice);
    }
    const next = this.pairFrom(grant, { ...held, generation: held.generation + 1 });
    try {
      // Before use: the old refresh token is spent, so this pair must survive a kill -9 from now on.
      this.opts.store.save(next);
    } catch (err) {
      // Disk full: the pair lives in memory only (a restart now would need `auth`); still better than stopping.
      this.opts.logger.error({ err }, 'could not save the renewed OAuth tokens; a restart before the store recovers will need re-authorisation');
    }
    this.tokens = next;
    this.opts.logger.info({ generation: next.generation, expiresInSec: grant.expiresInSec }, 'Bitrix24 access token renewed');
  }
}
