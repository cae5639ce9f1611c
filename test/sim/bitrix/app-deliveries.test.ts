import { afterEach, describe, expect, it } from 'vitest';
import type { BitrixEmulator } from '../../../src/sim/bitrix-emulator.js';
import { callApp, refresh, startAppEmulator, startReceiver, type Receiver } from './app-helpers.js';
import { clickData, FakeClock, T0 } from './helpers.js';

/** The auth block of every event the app gets: the portal's addresses and the application token. */
const appAuth = (emu: BitrixEmulator) => ({
  scope: 'telephony,crm,user,im,task',
  domain: new URL(emu.url).host,
  server_endpoint: `${emu.oauthUrl}/rest/`,
  status: 'L',
  client_endpoint: `${emu.url}/rest/`,
  member_id: expect.stringMatching(/^[0-9a-f]{32}$/),
  application_token: emu.applicationToken,
});

let emu: BitrixEmulator | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await emu?.close();
  await receiver?.close();
  emu = undefined;
  receiver = undefined;
});

async function bind(token: string, params: Record<string, unknown>): Promise<void> {
  const r = await callApp(emu!, 'event.bind', params, token);
  if (r.status !== 200) throw new Error(`event.bind failed: ${JSON.stringify(r.body)}`);
}

describe('ONAPPINSTALL', () => {
  it('POSTs the documented form with a fresh pair, and the pair works', async () => {
    const clock = new FakeClock();
    emu = await startAppEmulator({ clock: clock.fn, domain: 'portal.example.bitrix24.ru' }, { version: '3' });
    receiver = await startReceiver();
    const result = await emu.installApp(`${receiver.url}/bitrix/install`, 'ru');
    expect(result.status).toBe(200);
    const got = receiver.received[0]!;
    expect(got.path).toBe('/bitrix/install');
    expect(got.contentType).toBe('application/x-www-form-urlencoded');
    expect(got.body.startsWith('event=ONAPPINSTALL&data%5BVERSION%5D=3&')).toBe(true);
    expect(got.form).toEqual({
      event: 'ONAPPINSTALL',
      data: { VERSION: '3', ACTIVE: 'Y', INSTALLED: 'Y', LANGUAGE_ID: 'ru' },
      ts: String(T0 / 1000),
      auth: {
        domain: 'portal.example.bitrix24.ru',
        scope: 'telephony,crm,user,im,task',
        access_token: result.sent.accessToken,
        refresh_token: result.sent.refreshToken,
        expires_in: '3600',
        server_endpoint: `${emu.oauthUrl}/rest/`,
        status: 'L',
        client_endpoint: `${emu.url}/rest/`,
        member_id: result.sent.memberId,
        application_token: emu.applicationToken,
      },
    });
    expect(Object.keys(got.form.auth as object)).toEqual([
      'domain', 'scope', 'access_token', 'refresh_token', 'expires_in', 'server_endpoint', 'status', 'client_endpoint', 'member_id', 'application_token',
    ]);
    expect(emu.applicationToken).toMatch(/^[0-9a-f]{32}$/);
    expect((await callApp(emu, 'profile', {}, result.sent.accessToken)).status).toBe(200);
    expect((await refresh(emu, result.sent.refreshToken)).status).toBe(200);
  });

  it('reports an unreachable install URL without throwing', async () => {
    emu = await startAppEmulator();
    const result = await emu.installApp('http://127.0.0.1:1/install');
    expect(result.status).toBeUndefined();
    expect(result.error).toBeDefined();
  });

  it('keeps the application_token on an update and changes it on delete + install', async () => {
    emu = await startAppEmulator();
    receiver = await startReceiver();
    const before = emu.applicationToken;
    const old = emu.issueAppTokens();
    emu.reinstallApp();
    expect(emu.applicationToken).toBe(before);
    emu.deleteApp();
    const fresh = await emu.installApp(`${receiver.url}/install`);
    expect(emu.applicationToken).not.toBe(before);
    expect(fresh.sent.applicationToken).toBe(emu.applicationToken);
    // Tokens of the deleted app mean nothing to the new one.
    expect((await callApp(emu, 'profile', {}, old.accessToken)).body.error).toBe('invalid_token');
    expect((await callApp(emu, 'profile', {}, fresh.sent.accessToken)).status).toBe(200);
  });
});

describe('click-to-call and callback to app bindings', () => {
  it('registers the call, POSTs it to each online binding and queues it for each offline binding', async () => {
    const clock = new FakeClock();
    emu = await startAppEmulator({ clock: clock.fn });
    receiver = await startReceiver();
    const { accessToken } = emu.issueAppTokens();
    await bind(accessToken, { event: 'ONEXTERNALCALLSTART', handler: `${receiver.url}/events` });
    await bind(accessToken, { event: 'ONEXTERNALCALLSTART', event_type: 'offline' });

    const result = await emu.clickToCall({ userId: 7, phoneNumber: '+7 (495) 123-45-67' });
    const callId = result.callId!;
    expect(callId).toMatch(/^externalCall\.[0-9a-f]{32}\.\d+$/);
    expect(emu.calls.get(callId)).toMatchObject({ userId: 7, type: 1, registeredVia: 'internal', restAppId: 1, finished: false });
    expect(result.deliveries).toEqual([
      { kind: 'online', bindingId: 1, handler: `${receiver.url}/events`, status: 200, error: undefined },
      { kind: 'offline', bindingId: 2, rowId: 1, messageId: expect.stringMatching(/^[0-9a-f]{32}$/) },
    ]);

    const data = clickData(callId);
    const online = receiver.received[0]!.form;
    expect(online).toEqual({
      event: 'ONEXTERNALCALLSTART',
      event_handler_id: '1',
      data,
      ts: String(T0 / 1000),
      auth: {
        access_token: expect.stringMatching(/^[0-9a-f]{70}$/),
        expires: String(T0 / 1000 + 3600),
        expires_in: '3600',
        ...appAuth(emu),
        user_id: '7',
      },
    });
    // The event's token acts as the clicking user and carries no refresh token.
    const eventToken = (online.auth as Record<string, string>).access_token!;
    expect((await callApp(emu, 'profile', {}, eventToken)).body.result.ID).toBe('7');

    // The offline row keeps the PHP types of the event data.
    const offline = (await callApp(emu, 'event.offline.get', {}, accessToken)).body.result.events;
    expect(offline).toEqual([expect.objectContaining({
      EVENT_NAME: 'ONEXTERNALCALLSTART',
      EVENT_DATA: { ...data, USER_ID: 7, CALL_LIST_ID: 0, IS_MOBILE: false, CRM_ENTITY_ID: 651, CRM_CREATED_LEAD: null, CRM_CREATED_ENTITIES: [] },
      EVENT_ADDITIONAL: { user_id: 7 },
      MESSAGE_ID: result.deliveries[1]!.kind === 'offline' ? result.deliveries[1]!.messageId : '',
    })]);

    // The daemon finishes the call with the CALL_ID from the event.
    expect((await callApp(emu, 'telephony.externalcall.finish', { CALL_ID: callId, USER_ID: 7, DURATION: 4 }, accessToken)).status).toBe(200);
  });

  it('queues two clicks on the same number as two rows (each has its own CALL_ID)', async () => {
    emu = await startAppEmulator();
    const { accessToken } = emu.issueAppTokens();
    await bind(accessToken, { event: 'ONEXTERNALCALLSTART', event_type: 'offline' });
    const a = await emu.clickToCall({ userId: 7, phoneNumber: '5559876' });
    await callApp(emu, 'telephony.externalcall.finish', { CALL_ID: a.callId, USER_ID: 7 }, accessToken);
    const b = await emu.clickToCall({ userId: 7, phoneNumber: '5559876' });
    expect(b.callId).not.toBe(a.callId);
    expect(emu.offlineEvents.map((r) => r.data.CALL_ID)).toEqual([a.callId, b.callId]);
  });

  it('does nothing when the app has no ONEXTERNALCALLSTART binding (it is no outgoing line)', async () => {
    emu = await startAppEmulator();
    const result = await emu.clickToCall({ userId: 7, phoneNumber: '5559876' });
    expect(result).toEqual({ callId: null, error: 'Outgoing line is not found', deliveries: [] });
    expect(emu.calls.size).toBe(0);
  });

  it('sends callbacks without a call and without tokens when no user is behind them', async () => {
    emu = await startAppEmulator();
    receiver = await startReceiver();
    const { accessToken } = emu.issueAppTokens();
    await bind(accessToken, { event: 'ONEXTERNALCALLBACKSTART', handler: `${receiver.url}/cb` });
    await bind(accessToken, { event: 'ONEXTERNALCALLBACKSTART', event_type: 'offline' });
    const result = await emu.callback({ phoneNumber: '+74951234567', text: 'Call me', voice: 'ruinternalfemale', crmEntityType: 'LEAD', crmEntityId: 400 });
    expect(result.deliveries.map((d) => d.kind)).toEqual(['online', 'offline']);
    expect(emu.calls.size).toBe(0);
    expect(receiver.received[0]!.form).toEqual({
      event: 'ONEXTERNALCALLBACKSTART',
      event_handler_id: '1',
      data: { PHONE_NUMBER: '+74951234567', TEXT: 'Call me', VOICE: 'ruinternalfemale', CRM_ENTITY_TYPE: 'LEAD', CRM_ENTITY_ID: '400', LINE_NUMBER: '' },
      ts: expect.stringMatching(/^\d+$/),
      auth: appAuth(emu),
    });
    expect(emu.offlineEvents[0]?.additional).toEqual({ LOCAL_USER: 0, application_token: emu.applicationToken });
  });

  it('delivers a recorded event a second time, byte for byte, on resendEvent', async () => {
    emu = await startAppEmulator();
    receiver = await startReceiver();
    const { accessToken } = emu.issueAppTokens();
    await bind(accessToken, { event: 'ONEXTERNALCALLSTART', handler: `${receiver.url}/events` });
    const { callId } = await emu.clickToCall({ userId: 7, phoneNumber: '5559876' });
    const again = await emu.resendEvent(emu.events[0]!);
    expect(again.status).toBe(200);
    expect(receiver.received.map((r) => r.body)).toEqual([emu.events[0]!.body, emu.events[0]!.body]);
    expect((receiver.received[1]!.form.data as Record<string, string>).CALL_ID).toBe(callId);
    expect(emu.events).toHaveLength(2);
    expect(emu.calls.size).toBe(1);
  });

  it('records a failed online delivery and does not retry it', async () => {
    emu = await startAppEmulator();
    const { accessToken } = emu.issueAppTokens();
    await bind(accessToken, { event: 'ONEXTERNALCALLSTART', handler: 'http://127.0.0.1:1/events' });
    const result = await emu.clickToCall({ userId: 7, phoneNumber: '5559876' });
    expect(result.deliveries).toEqual([{ kind: 'online', bindingId: 1, handler: 'http://127.0.0.1:1/events', status: undefined, error: expect.any(String) }]);
    expect(emu.events.filter((e) => e.event === 'ONEXTERNALCALLSTART')).toHaveLength(1);
    // The call was registered before the delivery failed, as on the real portal.
    expect(emu.calls.get(result.callId!)?.finished).toBe(false);
  });
});
