import { afterEach, describe, expect, it } from 'vitest';
import type { BitrixEmulator } from '../../../src/sim/bitrix-emulator.js';
import { callApp, refresh, startAppEmulator, type TokenForm } from './app-helpers.js';
import { FakeClock, callJson, get, startEmulator } from './helpers.js';

let emu: BitrixEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

const NO_AUTH = { error: 'NO_AUTH_FOUND', error_description: 'Wrong authorization data' };
const INVALID = { error: 'invalid_token', error_description: 'The access token provided is invalid.' };
const EXPIRED = { error: 'expired_token', error_description: 'The access token provided has expired' };

describe('application auth on /rest/{method}', () => {
  it.each<TokenForm>(['auth', 'access_token', 'bearer', 'query'])('accepts the token as %s and runs as the token user', async (form) => {
    emu = await startAppEmulator();
    const { accessToken } = emu.issueAppTokens();
    const r = await callApp(emu, 'profile', {}, accessToken, form);
    expect(r.status).toBe(200);
    expect(r.body.result).toMatchObject({ ID: '1', ADMIN: true });
    expect(emu.requests[0]).toMatchObject({ path: '/rest/profile', restMethod: 'profile', auth: { type: 'app', tokenSerial: 1, superseded: false, outcome: 'ok' } });
    // The auth parameters are consumed by the auth layer: neither the method nor the log sees them.
    expect(emu.requests[0]?.params).toEqual({});
    expect(emu.commands[0]).toMatchObject({ method: 'profile', authType: 'app', params: {} });
    expect(JSON.stringify(emu.requests)).not.toContain(accessToken);
  });

  it('answers app.info with the app card under app auth and with SCOPE/LICENSE for the webhook', async () => {
    emu = await startAppEmulator({}, { version: '2' });
    const r = await callApp(emu, 'app.info', {}, emu.issueAppTokens().accessToken);
    expect(r.body.result).toEqual({
      ID: 1, CODE: 'local.6667fc928a50a9.70414732', VERSION: 2, STATUS: 'L', INSTALLED: true, PAYMENT_EXPIRED: 'N', DAYS: null,
      LANGUAGE_ID: 'en', LICENSE: 'en_project', LICENSE_TYPE: 'project', LICENSE_FAMILY: 'project',
    });
    expect((await callJson(emu, 'app.info')).body.result).toEqual({ SCOPE: ['telephony', 'crm', 'user', 'im', 'task'], LICENSE: 'en_project' });
  });

  it('also serves /rest/{method}.json', async () => {
    emu = await startAppEmulator();
    const r = await get(`${emu.url}/rest/server.time.json?auth=${emu.issueAppTokens().accessToken}`);
    expect(r.status).toBe(200);
    expect(typeof r.body.result).toBe('string');
  });

  it.each([
    ['no token at all', null, 401, NO_AUTH, 'missing'],
    ['an unknown token', 'f'.repeat(70), 401, INVALID, 'invalid'],
  ] as const)('refuses %s', async (_what, token, status, body, outcome) => {
    emu = await startAppEmulator();
    const r = await callApp(emu, 'profile', {}, token);
    expect([r.status, r.body]).toEqual([status, body]);
    expect(emu.requests[0]?.auth).toEqual({ type: 'app', tokenSerial: null, superseded: false, outcome });
    expect(emu.commands).toEqual([]);
  });

  it('refuses tokens of any kind when the emulator has no app', async () => {
    emu = await startEmulator();
    const r = await callApp(emu, 'profile', {}, 'a'.repeat(70));
    expect([r.status, r.body]).toEqual([401, INVALID]);
    expect(() => emu!.issueAppTokens()).toThrow('The emulator runs without an app: pass the `app` option');
  });

  it('says expired_token when the access token outlives its TTL, and the refreshed token works', async () => {
    const clock = new FakeClock();
    emu = await startAppEmulator({ clock: clock.fn }, { accessTokenTtlSec: 5 });
    const pair = emu.issueAppTokens();
    clock.tick(4_999);
    expect((await callApp(emu, 'profile', {}, pair.accessToken)).status).toBe(200);
    clock.tick(1);
    const r = await callApp(emu, 'profile', {}, pair.accessToken, 'bearer');
    expect([r.status, r.body]).toEqual([401, EXPIRED]);
    expect(emu.requests[1]?.auth).toEqual({ type: 'app', tokenSerial: 1, superseded: false, outcome: 'expired' });
    const renewed = await refresh(emu, pair.refreshToken);
    expect((await callApp(emu, 'profile', {}, renewed.body.access_token)).status).toBe(200);
    expect(emu.requests[2]?.auth).toMatchObject({ tokenSerial: 2, outcome: 'ok' });
  });

  it('expires every current access token on expireAccessTokens', async () => {
    emu = await startAppEmulator();
    const a = emu.issueAppTokens();
    const b = emu.issueAppTokens();
    emu.expireAccessTokens();
    for (const t of [a, b]) expect((await callApp(emu, 'profile', {}, t.accessToken)).body).toEqual(EXPIRED);
    expect((await callApp(emu, 'profile', {}, emu.issueAppTokens().accessToken)).status).toBe(200);
  });

  it('keeps an old access token valid after a refresh by default, and marks its use as superseded', async () => {
    emu = await startAppEmulator();
    const pair = emu.issueAppTokens();
    expect((await refresh(emu, pair.refreshToken)).status).toBe(200);
    expect((await callApp(emu, 'profile', {}, pair.accessToken)).status).toBe(200);
    expect(emu.requests[0]?.auth).toEqual({ type: 'app', tokenSerial: 1, superseded: true, outcome: 'ok' });
  });

  it('kills the old access token on refresh when oldAccessTokenValidAfterRefresh is false', async () => {
    emu = await startAppEmulator({}, { oldAccessTokenValidAfterRefresh: false });
    const pair = emu.issueAppTokens();
    await refresh(emu, pair.refreshToken);
    const r = await callApp(emu, 'profile', {}, pair.accessToken);
    expect([r.status, r.body]).toEqual([401, INVALID]);
    expect(emu.requests[0]?.auth).toEqual({ type: 'app', tokenSerial: 1, superseded: true, outcome: 'invalid' });
  });

  it('answers APPLICATION_NOT_FOUND for the tokens of a deleted app, even expired ones', async () => {
    emu = await startAppEmulator();
    const pair = emu.issueAppTokens();
    emu.expireAccessTokens();
    emu.deleteApp();
    const r = await callApp(emu, 'profile', {}, pair.accessToken);
    expect([r.status, r.body]).toEqual([401, { error: 'APPLICATION_NOT_FOUND', error_description: 'Application not found' }]);
  });

  it('applies the app scopes with the access-token wording', async () => {
    emu = await startAppEmulator({}, { scopes: ['telephony'] });
    const { accessToken } = emu.issueAppTokens();
    const r = await callApp(emu, 'user.get', {}, accessToken);
    expect([r.status, r.body]).toEqual([401, { error: 'insufficient_scope', error_description: 'The request requires higher privileges than provided by the access token' }]);
    // The webhook keeps its own scopes and wording.
    expect((await callJson(emu, 'user.get')).status).toBe(200);
  });

  it('shares one rate-limit bucket between the webhook and the app', async () => {
    const clock = new FakeClock();
    emu = await startAppEmulator({ clock: clock.fn, rateLimit: { perSecond: 2, burst: 3 } });
    const { accessToken } = emu.issueAppTokens();
    expect((await callJson(emu, 'profile')).status).toBe(200);
    expect((await callApp(emu, 'profile', {}, accessToken)).status).toBe(200);
    expect((await callJson(emu, 'profile')).status).toBe(200);
    const r = await callApp(emu, 'profile', {}, accessToken);
    expect([r.status, r.body]).toEqual([503, { error: 'QUERY_LIMIT_EXCEEDED', error_description: 'Too many requests' }]);
  });

  it('runs a batch under app auth: its commands are app commands', async () => {
    emu = await startAppEmulator();
    const { accessToken } = emu.issueAppTokens();
    const r = await callApp(emu, 'batch', {
      halt: 0,
      cmd: {
        reg: 'telephony.externalcall.register?USER_ID=7&PHONE_NUMBER=%2B74951234567&TYPE=2&EXTERNAL_CALL_ID=1700000000.1',
        fin: 'telephony.externalcall.finish?CALL_ID=$result[reg][CALL_ID]&USER_ID=7&DURATION=5',
      },
    }, accessToken);
    expect(r.status).toBe(200);
    expect(r.body.result.result_error).toEqual([]);
    expect(emu.commands.map((c) => [c.method, c.viaBatch, c.authType])).toEqual([
      ['telephony.externalcall.register', true, 'app'],
      ['telephony.externalcall.finish', true, 'app'],
      ['batch', false, 'app'],
    ]);
    const callId = r.body.result.result.reg.CALL_ID as string;
    expect(emu.calls.get(callId)?.restAppId).toBe(1);
    expect(r.body.result.result.fin).toMatchObject({ REST_APP_ID: 1, REST_APP_NAME: 'Asterisk bridge' });
  });

  it('keeps app lines apart from webhook lines and dedups registrations per REST app', async () => {
    emu = await startAppEmulator();
    const { accessToken } = emu.issueAppTokens();
    expect((await callApp(emu, 'telephony.externalLine.add', { NUMBER: '74950000000', NAME: 'App line' }, accessToken)).status).toBe(200);
    expect((await callJson(emu, 'telephony.externalLine.get')).body.result).toEqual([]);
    expect((await callApp(emu, 'telephony.externalLine.get', {}, accessToken)).body.result).toEqual([
      { NUMBER: '74950000000', NAME: 'App line', CRM_AUTO_CREATE: 'Y' },
    ]);
    const params = { USER_ID: 7, PHONE_NUMBER: '+74951234567', TYPE: 2, EXTERNAL_CALL_ID: 'x.1' };
    const byApp = await callApp(emu, 'telephony.externalcall.register', params, accessToken);
    const byHook = await callJson(emu, 'telephony.externalcall.register', params);
    expect(byHook.body.result.CALL_ID).not.toBe(byApp.body.result.CALL_ID);
    const again = await callApp(emu, 'telephony.externalcall.register', params, accessToken);
    expect(again.body.result.CALL_ID).toBe(byApp.body.result.CALL_ID);
  });

  it('builds upload URLs that carry the access token under app auth', async () => {
    emu = await startAppEmulator();
    const { accessToken } = emu.issueAppTokens();
    const callId = (await callApp(emu, 'telephony.externalcall.register', { USER_ID: 7, PHONE_NUMBER: '+74951234567', TYPE: 2 }, accessToken)).body.result.CALL_ID;
    await callApp(emu, 'telephony.externalcall.finish', { CALL_ID: callId, USER_ID: 7, DURATION: 3 }, accessToken);
    const r = await callApp(emu, 'telephony.externalcall.attachRecord', { CALL_ID: callId, FILENAME: 'call.mp3' }, accessToken);
    const uploadUrl = new URL(r.body.result.uploadUrl);
    expect(uploadUrl.pathname).toBe('/rest/upload.json');
    expect(uploadUrl.searchParams.get('auth')).toBe(accessToken);
    const form = new FormData();
    form.append('file', new Blob([Buffer.from('ID3mp3')]), 'call.mp3');
    const uploaded = await fetch(uploadUrl, { method: 'POST', body: form });
    expect(uploaded.status).toBe(200);
    expect(emu.records[0]).toMatchObject({ callId, fileName: 'call.mp3', mode: 'upload' });
  });
});
