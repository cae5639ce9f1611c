import { afterEach, describe, expect, it } from 'vitest';
import type { BitrixEmulator } from '../../../src/sim/bitrix-emulator.js';
import { CLIENT_ID, CLIENT_SECRET, refresh, startAppEmulator, tokenGet, tokenPost } from './app-helpers.js';
import { FakeClock, T0, get } from './helpers.js';

let emu: BitrixEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

const HEX70 = /^[0-9a-f]{70}$/;

describe('the authorization server', () => {
  it('exchanges a code for a pair in the captured field order and rotates both tokens on every refresh', async () => {
    const clock = new FakeClock();
    emu = await startAppEmulator({ clock: clock.fn });
    const code = emu.authorizationCode();
    const first = await tokenGet(emu, { grant_type: 'authorization_code', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, code });
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const oauthHost = new URL(emu.oauthUrl).host;
    expect(Object.keys(first.body)).toEqual([
      'access_token', 'expires', 'expires_in', 'scope', 'domain', 'server_endpoint', 'status', 'client_endpoint', 'member_id', 'user_id', 'refresh_token',
    ]);
    expect(first.body).toEqual({
      access_token: expect.stringMatching(HEX70),
      expires: T0 / 1000 + 3600,
      expires_in: 3600,
      scope: 'telephony,crm,user,im,task',
      domain: oauthHost,
      server_endpoint: `${emu.oauthUrl}/rest/`,
      status: 'L',
      client_endpoint: `${emu.url}/rest/`,
      member_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      user_id: 1,
      refresh_token: expect.stringMatching(HEX70),
    });
    // The authorization server is not the portal: its domain differs from the portal's.
    expect(oauthHost).not.toBe(new URL(emu.url).host);

    clock.tick(60_000);
    const second = await refresh(emu, first.body.refresh_token);
    expect(second.status).toBe(200);
    expect(second.body.access_token).not.toBe(first.body.access_token);
    expect(second.body.refresh_token).not.toBe(first.body.refresh_token);
    expect(second.body.expires).toBe(T0 / 1000 + 60 + 3600);
    expect(emu.oauth.codeExchanges).toBe(1);
    expect(emu.oauth.refreshes).toBe(1);
    expect(emu.oauth.serialOf(first.body.access_token)).toBe(1);
    expect(emu.oauth.serialOf(second.body.access_token)).toBe(2);
  });

  it('answers a form POST like a GET', async () => {
    emu = await startAppEmulator();
    const pair = emu.issueAppTokens();
    const r = await tokenPost(emu, { grant_type: 'refresh_token', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, refresh_token: pair.refreshToken });
    expect(r.status).toBe(200);
    expect(r.body.refresh_token).toMatch(HEX70);
    expect(emu.oauth.requests.map((q) => [q.method, q.grantType, q.status])).toEqual([['POST', 'refresh_token', 200]]);
  });

  const INVALID_GRANT = { error: 'invalid_grant', error_description: 'The authorization grant is invalid, expired or revoked' };
  const INVALID_CLIENT = { error: 'invalid_client', error_description: 'The client credentials are invalid' };

  it.each([
    ['a refresh token used once already', async (e: BitrixEmulator) => {
      const pair = e.issueAppTokens();
      expect((await refresh(e, pair.refreshToken)).status).toBe(200);
      return refresh(e, pair.refreshToken);
    }, 400, INVALID_GRANT],
    ['a revoked refresh token', async (e: BitrixEmulator) => {
      const pair = e.issueAppTokens();
      e.revokeRefreshTokens();
      return refresh(e, pair.refreshToken);
    }, 400, INVALID_GRANT],
    ['an unknown refresh token', (e: BitrixEmulator) => refresh(e, 'f'.repeat(70)), 400, INVALID_GRANT],
    ['a wrong client secret', (e: BitrixEmulator) => refresh(e, e.issueAppTokens().refreshToken, { client_secret: 'nope' }), 401, INVALID_CLIENT],
    ['a wrong client id', (e: BitrixEmulator) => refresh(e, e.issueAppTokens().refreshToken, { client_id: 'local.other' }), 401, INVALID_CLIENT],
    ['a deleted app', (e: BitrixEmulator) => {
      const pair = e.issueAppTokens();
      e.deleteApp();
      return refresh(e, pair.refreshToken);
    }, 401, INVALID_CLIENT],
    ['no grant type', (e: BitrixEmulator) => tokenGet(e, { client_id: CLIENT_ID, client_secret: CLIENT_SECRET }), 400,
      { error: 'invalid_request', error_description: 'Invalid grant_type parameter or parameter missing' }],
    ['a refresh without refresh_token', (e: BitrixEmulator) => tokenGet(e, { grant_type: 'refresh_token', client_id: CLIENT_ID, client_secret: CLIENT_SECRET }), 400,
      { error: 'invalid_request', error_description: 'Invalid grant_type parameter or parameter missing' }],
  ])('refuses %s', async (_what, attempt, status, body) => {
    emu = await startAppEmulator();
    const r = await attempt(emu);
    expect(r.status).toBe(status);
    expect(r.body).toEqual(body);
    expect(emu.oauth.requests.at(-1)).toMatchObject({ status, error: body.error });
  });

  it('lets a refresh token die of old age at its TTL', async () => {
    const clock = new FakeClock();
    emu = await startAppEmulator({ clock: clock.fn }, { refreshTokenTtlSec: 100 });
    const young = emu.issueAppTokens();
    const old = emu.issueAppTokens();
    clock.tick(99_000);
    expect((await refresh(emu, young.refreshToken)).status).toBe(200);
    clock.tick(1_000);
    expect((await refresh(emu, old.refreshToken)).body).toEqual(INVALID_GRANT);
  });

  it('takes a code once, and only within 30 seconds', async () => {
    const clock = new FakeClock();
    emu = await startAppEmulator({ clock: clock.fn });
    const exchange = (code: string) => tokenGet(emu!, { grant_type: 'authorization_code', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, code });
    const code = emu.authorizationCode();
    expect((await exchange(code)).status).toBe(200);
    expect(await exchange(code).then((r) => [r.status, r.body])).toEqual([400, INVALID_GRANT]);
    const late = emu.authorizationCode();
    clock.tick(30_000);
    const r = await exchange(late);
    expect(r.status).toBe(400);
    // A captured answer for an expired code (OpenIntegrations docs).
    expect(r.body).toEqual({ error: 'expired_token', error_description: 'The authorization token provided has expired.' });
    expect(emu.oauth.codeExchanges).toBe(1);
  });

  it('redirects the authorize page to the handler with code, state, domain, member_id, scope and server_domain', async () => {
    emu = await startAppEmulator({ domain: 'portal.example.bitrix24.ru' }, { handlerUrl: 'https://bridge.example/bitrix/app?x=1' });
    const r = await get(`${emu.url}/oauth/authorize/?client_id=${CLIENT_ID}&state=JJHgsdgf`, { redirect: 'manual' });
    expect(r.status).toBe(302);
    const location = new URL(r.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe('https://bridge.example/bitrix/app');
    expect([...location.searchParams.keys()]).toEqual(['x', 'code', 'state', 'domain', 'member_id', 'scope', 'server_domain']);
    expect(Object.fromEntries(location.searchParams)).toEqual({
      x: '1',
      code: expect.stringMatching(HEX70),
      state: 'JJHgsdgf',
      domain: 'portal.example.bitrix24.ru',
      member_id: expect.stringMatching(/^[0-9a-f]{32}$/),
      scope: 'telephony,crm,user,im,task',
      server_domain: new URL(emu.oauthUrl).host,
    });
    expect(r.headers.get('location')).toContain('scope=telephony%2Ccrm%2Cuser%2Cim%2Ctask');
    const code = location.searchParams.get('code')!;
    const exchanged = await tokenGet(emu, { grant_type: 'authorization_code', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, code });
    expect(exchanged.status).toBe(200);
  });

  it('shows the code on the page when the app has no handler URL, and an error page for a wrong client_id', async () => {
    emu = await startAppEmulator();
    const shown = await get(`${emu.url}/oauth/authorize/?client_id=${CLIENT_ID}`, { redirect: 'manual' });
    expect(shown.status).toBe(200);
    const code = /<code>([0-9a-f]{70})<\/code>/.exec(shown.body as string)?.[1];
    expect(code).toBeDefined();
    expect((await tokenGet(emu, { grant_type: 'authorization_code', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, code: code! })).status).toBe(200);

    const wrong = await get(`${emu.url}/oauth/authorize/?client_id=local.other`, { redirect: 'manual' });
    expect(wrong.status).toBe(400);
    expect(wrong.headers.get('location')).toBeNull();
    expect(wrong.body).toContain('Authorization error');
  });

  it('has its own faults: a lost refresh answer burns the refresh token', async () => {
    emu = await startAppEmulator();
    const pair = emu.issueAppTokens();
    emu.oauth.faults.loseAnswers(1, { methods: ['refresh_token'] });
    await expect(refresh(emu, pair.refreshToken)).rejects.toThrow();
    expect(emu.oauth.refreshes).toBe(1);
    expect(emu.oauth.requests[0]).toMatchObject({ grantType: 'refresh_token', status: 0, answerLost: true });
    expect((await refresh(emu, pair.refreshToken)).body).toEqual(INVALID_GRANT);

    emu.oauth.faults.setDown(503);
    expect((await refresh(emu, pair.refreshToken)).status).toBe(503);
    // The portal is not affected by the authorization server's faults.
    expect((await get(`${emu.url}/oauth/authorize/?client_id=${CLIENT_ID}`, { redirect: 'manual' })).status).toBe(200);
  });

  it('keeps secrets and tokens out of its request log', async () => {
    emu = await startAppEmulator();
    const pair = emu.issueAppTokens();
    await refresh(emu, pair.refreshToken);
    const log = JSON.stringify(emu.oauth.requests);
    expect(log).not.toContain(CLIENT_SECRET);
    expect(log).not.toContain(pair.refreshToken);
    expect(emu.oauth.requests).toHaveLength(1);
  });
});
