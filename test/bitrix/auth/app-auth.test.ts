import { describe, expect, it } from 'vitest';
import { AppAuth } from '../../../src/bitrix/auth/app-auth.js';
import { OAuthError, OAuthUnavailableError, oauthBase, type OAuthServer, type TokenGrant } from '../../../src/bitrix/auth/oauth-server.js';
import { AuthRequiredError } from '../../../src/bitrix/auth/rest-auth.js';
import type { AppTokens, TokenStore } from '../../../src/bitrix/auth/tokens.js';
import { captureLogger, silentLogger } from '../../support/logger.js';

/** The application's tokens: renewed on demand, once for many requests, written before use, never two pairs confused. */

function memoryStore(initial?: AppTokens): TokenStore & { saves: AppTokens[] } {
  let current = initial;
  const saves: AppTokens[] = [];
  return {
    saves,
    load: () => current,
    save: (t) => {
      saves.push(t);
      current = t;
    },
  };
}

const PORTAL = 'https://portal.example/rest/';
const pair = (n: number, over: Partial<AppTokens> = {}): AppTokens => ({
  accessToken: `access-${n}`,
  refreshToken: `refresh-${n}`,
  expiresAt: 10_000_000,
  issuedAt: 0,
  clientEndpoint: PORTAL,
  domain: 'portal.example',
  memberId: 'member-1',
  applicationToken: 'app-token',
  generation: n,
  ...over,
});

function oauth(answer: (refreshToken: string) => Promise<TokenGrant>): OAuthServer & { refreshed: string[] } {
  const refreshed: string[] = [];
  return {
    refreshed,
    refresh: async (_base, rt) => {
      refreshed.push(rt);
      return answer(rt);
    },
    exchangeCode: async () => {
      throw new Error('not used');
    },
  };
}

const grant = (n: number): TokenGrant => ({ accessToken: `access-${n}`, refreshToken: `refresh-${n}`, expiresInSec: 3600, clientEndpoint: PORTAL });

describe('the application\'s tokens', () => {
  it('renews once when 50 requests meet the same expired token, and writes the new pair before anyone uses it', async () => {
    const store = memoryStore(pair(1));
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const server = oauth(async () => {
      await slow;
      // When the answer arrives nothing may have used the new pair yet: it is not in the store.
      expect(store.saves).toEqual([]);
      return grant(2);
    });
    const auth = new AppAuth({ store, oauth: server, oauthUrl: 'https://oauth.example', clock: () => 1000, logger: silentLogger });
    const renewals = Array.from({ length: 50 }, () => auth.renew('access-1'));
    release();
    await Promise.all(renewals);
    expect(server.refreshed).toEqual(['refresh-1']);
    expect(store.saves.map((t) => [t.accessToken, t.refreshToken, t.generation])).toEqual([['access-2', 'refresh-2', 2]]);
    expect(await auth.credentials()).toEqual({ base: PORTAL, accessToken: 'access-2' });
    // A late caller that still holds the old token does not renew again.
    await auth.renew('access-1');
    expect(server.refreshed).toHaveLength(1);
  });

  it('renews before a request when the token is known to have expired, so no request is spent on a 401', async () => {
    let now = 0;
    const store = memoryStore(pair(1, { expiresAt: 60_000, issuedAt: 0 }));
    const server = oauth(async () => grant(2));
    const auth = new AppAuth({ store, oauth: server, oauthUrl: undefined, clock: () => now, logger: silentLogger });
    expect((await auth.credentials()).accessToken).toBe('access-1');
    now = 59_000;
    expect((await auth.credentials()).accessToken).toBe('access-2');
    expect(server.refreshed).toEqual(['refresh-1']);
  });

  it('on invalid_grant says exactly what to do, and comes back as soon as another process stores a newer pair', async () => {
    const store = memoryStore(pair(1));
    const sink = captureLogger();
    let revived = 0;
    const auth = new AppAuth({ store, oauth: oauth(async () => Promise.reject(new OAuthError('invalid_grant', 'Invalid refresh token', 400))), oauthUrl: undefined, clock: () => 0, logger: sink.logger, onRevived: () => void revived++ });
    const failure = await auth.renew('access-1').catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AuthRequiredError);
    expect((failure as AuthRequiredError).advice).toMatch(/run asterisk-b24-bridge auth --config FILE/);
    expect(auth.status()).toMatchObject({ state: 'required', reason: 'invalid_grant' });
    await expect(auth.credentials()).rejects.toThrow(/not authorised \(invalid_grant\)/);
    // `auth --code` in another process writes a newer pair to the shared store.
    store.save(pair(2));
    expect(await auth.credentials()).toEqual({ base: PORTAL, accessToken: 'access-2' });
    expect(revived).toBe(1);
    expect(sink.text()).not.toContain('refresh-1');
  });

  it('when another process rotated the pair first, adopts its pair instead of declaring the tokens dead', async () => {
    const store = memoryStore(pair(1));
    const auth = new AppAuth({
      store,
      oauth: oauth(async () => {
        // `check` refreshed a moment ago with the same refresh token: ours is now spent.
        store.save(pair(2));
        throw new OAuthError('invalid_grant', 'Invalid refresh token', 400);
      }),
      oauthUrl: undefined,
      clock: () => 0,
      logger: silentLogger,
    });
    await auth.renew('access-1');
    expect(auth.status()).toMatchObject({ state: 'authorised', generation: 2 });
    expect((await auth.credentials()).accessToken).toBe('access-2');
  });

  it('treats an unreachable OAuth server as a wait, not as dead tokens', async () => {
    let up = false;
    const auth = new AppAuth({ store: memoryStore(pair(1)), oauth: oauth(async () => (up ? grant(2) : Promise.reject(new OAuthUnavailableError('ECONNREFUSED')))), oauthUrl: undefined, clock: () => 0, logger: silentLogger });
    await expect(auth.renew('access-1')).rejects.toMatchObject({ reason: 'oauth_unreachable' });
    expect(auth.status().state).toBe('authorised');
    up = true;
    await auth.renew('access-1');
    expect((await auth.credentials()).accessToken).toBe('access-2');
  });

  it('asks for an install when there are no tokens at all', async () => {
    const auth = new AppAuth({ store: memoryStore(), oauth: oauth(async () => grant(2)), oauthUrl: undefined, clock: () => 0, logger: silentLogger });
    await expect(auth.credentials()).rejects.toMatchObject({ reason: 'not_installed', advice: expect.stringContaining('http.installPath') });
  });

  it('lists its tokens as secrets, so the client blanks them out of any text', () => {
    const auth = new AppAuth({ store: memoryStore(pair(7)), oauth: oauth(async () => grant(8)), oauthUrl: undefined, clock: () => 0, logger: silentLogger });
    expect(auth.secrets().sort()).toEqual(['access-7', 'app-token', 'refresh-7']);
  });
});

describe('the OAuth server the secret goes to', () => {
  it.each<[string, string | undefined, string | undefined, string]>([
    ['bitrix.app.oauthUrl wins', 'https://oauth.example', 'https://oauth.bitrix24.tech/rest/', 'https://oauth.example'],
    ['an install\'s server_endpoint on Bitrix24\'s regional server', undefined, 'https://oauth.bitrix24.tech/rest/', 'https://oauth.bitrix24.tech'],
    ['an install\'s server_endpoint on any other host is ignored', undefined, 'https://evil.example/rest/', 'https://oauth.bitrix.info'],
    ['Bitrix24\'s host over plain http is ignored', undefined, 'http://oauth.bitrix.info/rest/', 'https://oauth.bitrix.info'],
    ['no endpoint at all', undefined, undefined, 'https://oauth.bitrix.info'],
  ])('%s', (_what, oauthUrl, serverEndpoint, expected) => {
    expect(oauthBase(oauthUrl, serverEndpoint)).toBe(expected);
  });

  it('refreshes against the default server, not a host a stored server_endpoint names', async () => {
    const bases: string[] = [];
    const server: OAuthServer = {
      refresh: async (base) => {
        bases.push(base);
        return grant(2);
      },
      exchangeCode: async () => grant(2),
    };
    const auth = new AppAuth({ store: memoryStore(pair(1, { serverEndpoint: 'https://evil.example/rest/' })), oauth: server, oauthUrl: undefined, clock: () => 0, logger: silentLogger });
    await auth.renew('access-1');
    expect(bases).toEqual(['https://oauth.bitrix.info']);
  });
});
