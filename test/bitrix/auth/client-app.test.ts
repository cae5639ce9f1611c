import { afterEach, describe, expect, it } from 'vitest';
import { AppAuth } from '../../../src/bitrix/auth/app-auth.js';
import { oauthServer } from '../../../src/bitrix/auth/oauth-server.js';
import type { AppTokens, TokenStore } from '../../../src/bitrix/auth/tokens.js';
import { createBitrixClient, type BitrixClient } from '../../../src/bitrix/client.js';
import { BitrixError } from '../../../src/bitrix/errors.js';
import { LeakyBucket } from '../../../src/bitrix/limiter.js';
import { startBitrixEmulator, type BitrixEmulator } from '../../../src/sim/bitrix-emulator.js';
import { DEMO_USERS } from '../../../src/demo/scenarios.js';
import { APP } from '../../support/app-rig.js';
import { captureLogger, silentLogger } from '../../support/logger.js';

/** The REST client in application mode, against the emulator's portal and authorization server. */

let portal: BitrixEmulator | undefined;
afterEach(async () => {
  await portal?.close();
  portal = undefined;
});

async function setUp(o: { seed?: boolean } = {}): Promise<{ client: BitrixClient; auth: AppAuth; store: TokenStore }> {
  portal = await startBitrixEmulator({ users: DEMO_USERS, app: APP, refuseWebhookTelephony: true });
  let saved: AppTokens | undefined;
  const store: TokenStore = { load: () => saved, save: (t) => void (saved = t) };
  const auth = new AppAuth({ store, oauth: oauthServer({ ...APP, timeoutMs: 5000 }), oauthUrl: portal.oauthUrl, clock: Date.now, logger: silentLogger });
  if (o.seed !== false) {
    const p = portal.issueAppTokens();
    auth.install({ accessToken: p.accessToken, refreshToken: p.refreshToken, expiresInSec: 3600, clientEndpoint: `${portal.url}/rest/`, domain: p.domain, memberId: p.memberId, applicationToken: p.applicationToken });
  }
  const client = createBitrixClient({ auth, limiter: new LeakyBucket({ perSecond: 50, burst: 50 }) });
  return { client, auth, store };
}

describe('the REST client with an application token', () => {
  it('registers where webhooks are refused, sending the token as the auth parameter', async () => {
    const { client } = await setUp();
    const r = await client.call<{ CALL_ID: string }>('telephony.externalcall.register', { USER_ID: 11, PHONE_NUMBER: '5551001', TYPE: 2, SHOW: 0, EXTERNAL_CALL_ID: 'x-1' });
    expect(r.CALL_ID).toMatch(/^externalCall\./);
    expect(portal!.requests.at(-1)?.auth).toMatchObject({ type: 'app', outcome: 'ok' });
  });

  it('renews an access token the portal calls expired and sends the refused request once more, once', async () => {
    const { client } = await setUp();
    portal!.expireAccessTokens();
    const before = portal!.requests.length;
    expect(await client.call('server.time')).toEqual(expect.any(String));
    const seen = portal!.requests.slice(before).map((r) => (r.auth?.type === 'app' ? r.auth.outcome : r.auth?.type));
    expect(seen).toEqual(['expired', 'ok']);
    expect(portal!.oauth.refreshes).toBe(1);
  });

  it('fails with AUTH_REQUIRED, without a request to the portal, when there is no token', async () => {
    const { client } = await setUp({ seed: false });
    const err = await client.call('server.time').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BitrixError);
    expect(err).toMatchObject({ kind: 'retryable', errorCode: 'AUTH_REQUIRED', code: 'not_installed' });
    expect(portal!.requests).toEqual([]);
  });

  it('waits (retryable) instead of parking when the refresh token is dead, and says what to do', async () => {
    const { client } = await setUp();
    portal!.revokeRefreshTokens();
    portal!.expireAccessTokens();
    const err = (await client.call('server.time').catch((e: unknown) => e)) as BitrixError;
    expect(err).toMatchObject({ kind: 'retryable', errorCode: 'AUTH_REQUIRED', code: 'invalid_grant' });
    expect(err.description).toMatch(/auth --config FILE/);
  });

  it('never lets a token reach a log line or an error text', async () => {
    const sink = captureLogger();
    portal = await startBitrixEmulator({ users: DEMO_USERS, app: APP });
    const p = portal.issueAppTokens();
    let saved: AppTokens | undefined;
    const auth = new AppAuth({ store: { load: () => saved, save: (t) => void (saved = t) }, oauth: oauthServer({ ...APP, timeoutMs: 5000 }), oauthUrl: portal.oauthUrl, clock: Date.now, logger: sink.logger });
    auth.install({ accessToken: p.accessToken, refreshToken: p.refreshToken, expiresInSec: 3600, clientEndpoint: `${portal.url}/rest/`, domain: p.domain, memberId: p.memberId, applicationToken: p.applicationToken });
    const client = createBitrixClient({ auth, limiter: new LeakyBucket({ perSecond: 50, burst: 50 }), logger: sink.logger });
    portal.faults.failNext(1, { status: 400, error: 'ERROR_CORE', error_description: `echo ${p.accessToken} and ${p.refreshToken}` });
    const err = (await client.call('server.time').catch((e: unknown) => e)) as Error;
    portal.expireAccessTokens();
    await client.call('server.time');
    expect(sink.lines().length).toBeGreaterThan(0);
    for (const secret of [p.accessToken, p.refreshToken, saved!.accessToken, saved!.refreshToken, APP.clientSecret]) {
      expect(err.message).not.toContain(secret);
      expect(sink.text()).not.toContain(secret);
    }
    expect(err.message).toContain('echo *** and ***');
  });
});
