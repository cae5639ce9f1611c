import { afterEach, describe, expect, it } from 'vitest';
import type { BitrixEmulator } from '../../../src/sim/bitrix-emulator.js';
import { callApp, startAppEmulator } from './app-helpers.js';
import { USERS, callJson } from './helpers.js';

let emu: BitrixEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

const HANDLER = 'https://bridge.example.com/bitrix/events';

async function appCall(method: string, params: Record<string, unknown> = {}) {
  return callApp(emu!, method, params, token);
}
let token = '';

async function start(options: Parameters<typeof startAppEmulator>[0] = {}, app: Parameters<typeof startAppEmulator>[1] = {}) {
  emu = await startAppEmulator(options, app);
  token = emu.issueAppTokens().accessToken;
}

describe('event.bind / event.get / event.unbind', () => {
  it('binds online and offline handlers and lists them as the docs show', async () => {
    await start();
    expect((await appCall('event.bind', { event: 'OnExternalCallStart', handler: HANDLER })).body.result).toBe(true);
    expect((await appCall('event.bind', { EVENT: 'ONEXTERNALCALLBACKSTART', HANDLER, AUTH_TYPE: 7 })).body.result).toBe(true);
    // An offline binding needs no handler; one given is ignored.
    expect((await appCall('event.bind', { event: 'ONEXTERNALCALLSTART', event_type: 'offline', handler: HANDLER })).body.result).toBe(true);
    const r = await appCall('event.get');
    expect(r.status).toBe(200);
    expect(r.body.result).toEqual([
      { event: 'ONEXTERNALCALLSTART', handler: HANDLER, auth_type: '0', offline: 0 },
      { event: 'ONEXTERNALCALLBACKSTART', handler: HANDLER, auth_type: '7', offline: 0 },
      { event: 'ONEXTERNALCALLSTART', connector_id: '', offline: 1 },
    ]);
    expect(emu!.bindings.map((b) => [b.id, b.event, b.handler, b.userId])).toEqual([
      [1, 'ONEXTERNALCALLSTART', HANDLER, 0],
      [2, 'ONEXTERNALCALLBACKSTART', HANDLER, 7],
      [3, 'ONEXTERNALCALLSTART', '', 0],
    ]);
  });

  it.each([
    ['the same online handler twice', { event: 'ONEXTERNALCALLSTART', handler: HANDLER }],
    ['the same offline binding twice', { event: 'ONEXTERNALCALLSTART', event_type: 'offline' }],
  ])('refuses %s', async (_what, params) => {
    await start();
    expect((await appCall('event.bind', params)).status).toBe(200);
    const r = await appCall('event.bind', params);
    expect([r.status, r.body]).toEqual([400, { error: 'ERROR_CORE', error_description: 'Unable to set event handler: Handler already binded' }]);
    expect(emu!.bindings).toHaveLength(1);
  });

  it.each([
    ['no event', { handler: HANDLER }, { error: 'ERROR_ARGUMENT', error_description: "Argument 'EVENT' is null or empty", argument: 'EVENT' }],
    ['an unknown event type', { event: 'ONEXTERNALCALLSTART', handler: HANDLER, event_type: 'sometimes' },
      { error: 'ERROR_ARGUMENT', error_description: 'Value must be one of {online|offline}', argument: 'EVENT_TYPE' }],
    ['an online binding without handler', { event: 'ONEXTERNALCALLSTART' }, { error: 'ERROR_ARGUMENT', error_description: "Argument 'HANDLER' is null or empty", argument: 'HANDLER' }],
    ['an unknown event', { event: 'ONSOMETHINGELSE', handler: HANDLER }, { error: 'ERROR_EVENT_NOT_FOUND', error_description: 'Event not found' }],
    ['a handler that is no URL', { event: 'ONEXTERNALCALLSTART', handler: 'bridge/events' }, { error: 'ERROR_WRONG_HANDLER_URL', error_description: 'Wrong handler URL' }],
    ['a host without a dot', { event: 'ONEXTERNALCALLSTART', handler: 'http://localhost:8080/events' }, { error: 'ERROR_WRONG_HANDLER_URL', error_description: 'Wrong handler URL' }],
    ['an ftp handler', { event: 'ONEXTERNALCALLSTART', handler: 'ftp://bridge.example.com/events' }, { error: 'ERROR_UNSUPPORTED_PROTOCOL', error_description: 'Unsupported handler protocol' }],
  ])('refuses %s with 400', async (_what, params, body) => {
    await start();
    const r = await appCall('event.bind', params);
    expect([r.status, r.body]).toEqual([400, body]);
    expect(emu!.bindings).toEqual([]);
  });

  it('accepts 127.0.0.1 handlers (the host has dots) and dotless hosts when the dot rule is off', async () => {
    await start();
    expect((await appCall('event.bind', { event: 'ONEXTERNALCALLSTART', handler: 'http://127.0.0.1:9/events' })).status).toBe(200);
    await emu!.close();
    await start({}, { handlerHostNeedsDot: false });
    expect((await appCall('event.bind', { event: 'ONEXTERNALCALLSTART', handler: 'http://localhost:9/events' })).status).toBe(200);
  });

  it('finds telephony events only when the app has the telephony scope', async () => {
    await start({}, { scopes: ['crm'] });
    const r = await appCall('event.bind', { event: 'ONEXTERNALCALLSTART', handler: HANDLER });
    expect([r.status, r.body]).toEqual([400, { error: 'ERROR_EVENT_NOT_FOUND', error_description: 'Event not found' }]);
  });

  it.each(['event.bind', 'event.get', 'event.unbind'])('refuses %s to an inbound webhook with WRONG_AUTH_TYPE', async (method) => {
    await start();
    const r = await callJson(emu!, method, { event: 'ONEXTERNALCALLSTART', handler: HANDLER });
    expect([r.status, r.body]).toEqual([403, { error: 'WRONG_AUTH_TYPE', error_description: 'Current authorization type is denied for this method' }]);
    expect(emu!.bindings).toEqual([]);
  });

  it('unbinds by event and handler and counts what went', async () => {
    await start();
    await appCall('event.bind', { event: 'ONEXTERNALCALLSTART', handler: HANDLER });
    await appCall('event.bind', { event: 'ONEXTERNALCALLSTART', handler: HANDLER, auth_type: 7 });
    await appCall('event.bind', { event: 'ONEXTERNALCALLSTART', event_type: 'offline' });
    expect((await appCall('event.unbind', { event: 'ONEXTERNALCALLSTART', handler: HANDLER, auth_type: 7 })).body.result).toEqual({ count: 1 });
    expect((await appCall('event.unbind', { event: 'ONEXTERNALCALLSTART', event_type: 'offline' })).body.result).toEqual({ count: 1 });
    expect((await appCall('event.unbind', { event: 'ONEXTERNALCALLSTART', handler: 'https://other.example.com/' })).body.result).toEqual({ count: 0 });
    expect(emu!.bindings.map((b) => [b.handler, b.userId])).toEqual([[HANDLER, 0]]);
    const r = await appCall('event.unbind', { event: 'ONEXTERNALCALLSTART' });
    expect([r.status, r.body]).toEqual([400, { error: 'ERROR_ARGUMENT', error_description: "Argument 'HANDLER' is null or empty", argument: 'HANDLER' }]);
  });

  it('limits a non-admin token user to online bindings of their own', async () => {
    const users = USERS.map((u) => (u.ID === 7 ? { ...u, ADMIN: false } : u));
    await start({ users }, { userId: 7 });
    const offline = await appCall('event.bind', { event: 'ONEXTERNALCALLSTART', event_type: 'offline' });
    expect([offline.status, offline.body]).toEqual([403, { error: 'ACCESS_DENIED', error_description: 'Access denied! Offline events binding requires administrator access rights' }]);
    const other = await appCall('event.bind', { event: 'ONEXTERNALCALLSTART', handler: HANDLER, auth_type: 8 });
    expect([other.status, other.body]).toEqual([403, { error: 'ACCESS_DENIED', error_description: 'Access denied! Event binding with AUTH_TYPE requires administrator access rights' }]);
    expect((await appCall('event.bind', { event: 'ONEXTERNALCALLSTART', handler: HANDLER })).status).toBe(200);
    expect(emu!.bindings.map((b) => b.userId)).toEqual([7]);
  });

  it('counts the installer as an administrator unless the seed says ADMIN: false', async () => {
    const users = USERS.map(({ ADMIN: _admin, ...u }) => u);
    await start({ users });
    expect((await appCall('event.bind', { event: 'ONEXTERNALCALLSTART', event_type: 'offline' })).status).toBe(200);
    expect((await appCall('profile')).body.result.ADMIN).toBe(true);
  });

  it('drops every binding when the app is updated', async () => {
    await start();
    await appCall('event.bind', { event: 'ONEXTERNALCALLSTART', handler: HANDLER });
    await appCall('event.bind', { event: 'ONEXTERNALCALLSTART', event_type: 'offline' });
    emu!.reinstallApp();
    expect((await appCall('event.get')).body.result).toEqual([]);
    // Tokens stay good across an update.
    expect((await appCall('event.bind', { event: 'ONEXTERNALCALLSTART', handler: HANDLER })).status).toBe(200);
  });
});
