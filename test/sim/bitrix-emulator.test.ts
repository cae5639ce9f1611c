import { afterEach, describe, expect, it } from 'vitest';
import type { BitrixEmulator } from '../../src/sim/bitrix-emulator.js';
import { FakeClock, T0, callForm, callJson, get, startEmulator } from './bitrix/helpers.js';

let emu: BitrixEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

// docs/reference/bitrix24-rest.md#method-names, #system-errors
describe('routing and authentication', () => {
  it('serves a method with or without .json and with a trailing slash, case-insensitively', async () => {
    emu = await startEmulator();
    for (const path of ['server.time', 'server.time.json', 'server.time/', 'SERVER.Time.json/']) {
      const r = await get(`${emu.webhookUrl}${path}`);
      expect(r.status, path).toBe(200);
    }
    expect(emu.requests.map((r) => r.restMethod)).toEqual(['server.time', 'server.time', 'server.time', 'server.time']);
  });

  it('rejects a wrong webhook code or user id with 401 INVALID_CREDENTIALS', async () => {
    emu = await startEmulator();
    for (const url of [`${emu.url}/rest/1/wrong/profile`, `${emu.url}/rest/2/testcode123/profile`]) {
      const r = await get(url);
      expect(r.status).toBe(401);
      expect(r.body).toEqual({ error: 'INVALID_CREDENTIALS', error_description: 'Invalid request credentials' });
    }
  });

  it('answers an unknown method with 404 ERROR_METHOD_NOT_FOUND', async () => {
    emu = await startEmulator();
    const r = await callJson(emu, 'telephony.externalcall.teleport');
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ error: 'ERROR_METHOD_NOT_FOUND', error_description: 'Method not found!' });
  });

  it('refuses a method outside the webhook scopes with 401 insufficient_scope', async () => {
    emu = await startEmulator({ scopes: ['crm'] });
    const r = await callJson(emu, 'telephony.externalcall.register', {});
    expect(r.status).toBe(401);
    expect(r.body.error).toBe('insufficient_scope');
    expect(r.body.error_description).toBe(
      'The request requires higher privileges than provided by the webhook token',
    );
    expect(emu.commands).toEqual([]);
  });

  it('refuses every call when the webhook owner is inactive', async () => {
    emu = await startEmulator({ users: [{ ID: 1, ACTIVE: false }] });
    const r = await callJson(emu, 'profile');
    expect(r.status).toBe(401);
    expect(r.body.error).toBe('authorization_error');
  });
});

// docs/reference/bitrix24-rest.md#success-envelope, #error-envelope
describe('envelopes', () => {
  it('wraps success in result plus a time block with portal-offset dates and CORS headers', async () => {
    const clock = new FakeClock();
    emu = await startEmulator({ clock: clock.fn });
    const r = await callJson(emu, 'server.time');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
    expect(r.body).toEqual({
      result: '2026-03-10T11:19:38+03:00',
      time: {
        start: T0 / 1000,
        finish: T0 / 1000,
        duration: 0,
        processing: 0,
        date_start: '2026-03-10T11:19:38+03:00',
        date_finish: '2026-03-10T11:19:38+03:00',
        operating_reset_at: T0 / 1000 + 600,
        operating: 0,
      },
    });
  });

  it('sends telephony errors as HTTP 400 with an empty error code and no time', async () => {
    emu = await startEmulator();
    const r = await callJson(emu, 'telephony.externalcall.register', { PHONE_NUMBER: '1', TYPE: 1 });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ error: '', error_description: 'USER_ID or USER_PHONE_INNER should be set' });
  });

  it('uses ERROR_CORE as the telephony error code when configured so', async () => {
    emu = await startEmulator({ errorCode: 'ERROR_CORE' });
    const r = await callJson(emu, 'telephony.externalcall.register', {});
    expect(r.body.error).toBe('ERROR_CORE');
  });

  it('renders empty PHP arrays as [] and user IDs as strings', async () => {
    emu = await startEmulator();
    const lines = await callJson(emu, 'telephony.externalLine.get');
    expect(lines.body.result).toEqual([]);
    const users = await callJson(emu, 'user.get', { ID: 7 });
    expect(users.body.result[0].ID).toBe('7');
    expect(users.body.total).toBe(1);
  });
});

// docs/reference/bitrix24-rest.md#request-encoding
describe('request parsing', () => {
  it('parses PHP bracket forms, including USER_ID[]=1&USER_ID[]=2', async () => {
    emu = await startEmulator();
    const reg = await callForm(emu, 'telephony.externalcall.register', 'USER_ID=7&PHONE_NUMBER=%2B74951234567&TYPE=2');
    const callId = reg.body.result.CALL_ID as string;
    const r = await callForm(emu, 'telephony.externalcall.show', `CALL_ID=${callId}&USER_ID[]=1&USER_ID[]=8`);
    expect(r.body.result).toBe(true);
    expect(emu.requests.at(-1)?.params).toEqual({ CALL_ID: callId, USER_ID: ['1', '8'] });
    expect([...(emu.calls.get(callId)?.shownTo ?? [])].sort()).toEqual([1, 7, 8]);
  });

  it('parses nested FILTER brackets from the query string of a GET', async () => {
    emu = await startEmulator();
    const r = await get(`${emu.webhookUrl}user.get?FILTER[UF_PHONE_INNER]=102`);
    expect(r.body.result.map((u: { ID: string }) => u.ID)).toEqual(['8']);
  });

  it('merges the query string with the body, the body winning', async () => {
    emu = await startEmulator();
    const r = await fetch(`${emu.webhookUrl}user.get?ID=7&SORT=ID`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'ID=8',
    });
    expect(((await r.json()) as { result: Array<{ ID: string }> }).result.map((u) => u.ID)).toEqual(['8']);
    expect(emu.requests[0]?.params).toEqual({ ID: '8', SORT: 'ID' });
  });

  it('turns an invalid JSON body into empty params, hence the misleading user error', async () => {
    emu = await startEmulator();
    const r = await fetch(`${emu.webhookUrl}telephony.externalcall.register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"USER_ID": 7, "PHONE_NUMBER": ',
    });
    expect(r.status).toBe(400);
    expect(await r.json()).toEqual({ error: '', error_description: 'USER_ID or USER_PHONE_INNER should be set' });
    expect(emu.requests[0]?.params).toEqual({});
  });

  it('keeps JSON types, so a JSON array USER_ID works for show', async () => {
    emu = await startEmulator();
    const reg = await callJson(emu, 'telephony.externalcall.register', { USER_ID: 7, PHONE_NUMBER: '+1555', TYPE: 1, SHOW: 0 });
    const callId = reg.body.result.CALL_ID as string;
    const r = await callJson(emu, 'telephony.externalcall.show', { CALL_ID: callId, USER_ID: [7, 8] });
    expect(r.body.result).toBe(true);
    expect([...(emu.calls.get(callId)?.shownTo ?? [])]).toEqual([7, 8]);
  });

  it('parses multipart fields with PHP brackets for ordinary methods', async () => {
    emu = await startEmulator();
    const form = new FormData();
    form.append('FILTER[UF_PHONE_INNER]', '101');
    const r = await fetch(`${emu.webhookUrl}user.get`, { method: 'POST', body: form });
    expect(((await r.json()) as { result: Array<{ ID: string }> }).result.map((u) => u.ID)).toEqual(['7']);
  });

  it('parse_str-decodes a body sent with another content type, such as text/plain', async () => {
    emu = await startEmulator();
    const r = await fetch(`${emu.webhookUrl}user.get`, { method: 'POST', body: 'UF_PHONE_INNER=102' });
    expect(((await r.json()) as { result: Array<{ ID: string }> }).result.map((u) => u.ID)).toEqual(['8']);
  });

  it('refuses a body larger than the limit with 413', async () => {
    emu = await startEmulator({ maxBodyBytes: 1024 });
    const r = await fetch(`${emu.webhookUrl}profile`, { method: 'POST', body: 'x'.repeat(4096) });
    expect(r.status).toBe(413);
    expect(emu.commands).toEqual([]);
    expect((await callJson(emu, 'profile')).status).toBe(200);
  });
});

// docs/reference/bitrix24-rest.md#leaky-bucket
describe('rate limit', () => {
  it('refuses the request after the burst with 503 QUERY_LIMIT_EXCEEDED without executing it, then recovers as it drains', async () => {
    const clock = new FakeClock();
    emu = await startEmulator({ clock: clock.fn, rateLimit: { perSecond: 2, burst: 5 } });
    for (let i = 0; i < 5; i++) expect((await callJson(emu, 'telephony.externalLine.add', { NUMBER: `n${i}` })).status).toBe(200);
    const refused = await callJson(emu, 'telephony.externalLine.add', { NUMBER: 'n5' });
    expect(refused.status).toBe(503);
    expect(refused.body).toEqual({ error: 'QUERY_LIMIT_EXCEEDED', error_description: 'Too many requests' });
    expect(emu.state.lineByNumber('n5')).toBeUndefined();
    expect(emu.commands).toHaveLength(5);

    clock.tick(499); // 0.998 requests drained: still full
    expect((await callJson(emu, 'server.time')).status).toBe(503);
    clock.tick(1); // one request drained
    expect((await callJson(emu, 'server.time')).status).toBe(200);
    expect((await callJson(emu, 'server.time')).status).toBe(503);
    clock.tick(2500); // five drained
    for (let i = 0; i < 5; i++) expect((await callJson(emu, 'server.time')).status).toBe(200);
  });

  it('counts a batch as a single request', async () => {
    const clock = new FakeClock();
    emu = await startEmulator({ clock: clock.fn, rateLimit: { perSecond: 2, burst: 2 } });
    const cmd = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`c${i}`, 'server.time']));
    expect((await callJson(emu, 'batch', { cmd })).status).toBe(200);
    expect((await callJson(emu, 'server.time')).status).toBe(200);
    expect((await callJson(emu, 'server.time')).status).toBe(503);
  });

  it('is unlimited with Infinity settings', async () => {
    emu = await startEmulator({ rateLimit: { perSecond: Infinity, burst: Infinity } });
    for (let i = 0; i < 60; i++) expect((await callJson(emu, 'scope')).status).toBe(200);
  });
});
