import { afterEach, describe, expect, it } from 'vitest';
import type { BitrixEmulator } from '../../../src/sim/bitrix-emulator.js';
import { FakeClock, callForm, callJson, register, startEmulator } from './helpers.js';

let emu: BitrixEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

async function registerError(params: Record<string, unknown>): Promise<string> {
  const r = await callJson(emu!, 'telephony.externalcall.register', params);
  expect(r.status).toBe(400);
  expect(r.body.error).toBe('');
  return r.body.error_description as string;
}

// docs/reference/bitrix24-telephony.md#register-validation-order
describe('telephony.externalcall.register validation order', () => {
  it('checks the user first, even when everything else is wrong too', async () => {
    emu = await startEmulator();
    expect(await registerError({ TYPE: 99, PHONE_NUMBER: 'abc', CALL_START_DATE: 'garbage' })).toBe(
      'USER_ID or USER_PHONE_INNER should be set',
    );
  });

  it('gives the same misleading user error when USER_PHONE_INNER matches nobody or an inactive user', async () => {
    emu = await startEmulator();
    expect(await registerError({ USER_PHONE_INNER: '555', PHONE_NUMBER: '1', TYPE: 1 })).toBe(
      'USER_ID or USER_PHONE_INNER should be set',
    );
    expect(await registerError({ USER_PHONE_INNER: '103', PHONE_NUMBER: '1', TYPE: 1 })).toBe(
      'USER_ID or USER_PHONE_INNER should be set',
    );
  });

  it('checks TYPE second with loose PHP comparison', async () => {
    emu = await startEmulator();
    expect(await registerError({ USER_ID: 7, PHONE_NUMBER: 'abc', CALL_START_DATE: 'x' })).toBe('Unknown TYPE');
    expect(await registerError({ USER_ID: 7, TYPE: '2abc', PHONE_NUMBER: '1' })).toBe('Unknown TYPE');
    expect((await callForm(emu, 'telephony.externalcall.register', 'USER_ID=7&TYPE=2&PHONE_NUMBER=1')).status).toBe(200);
  });

  it('checks CALL_START_DATE third, then the phone, then whether the user is active', async () => {
    emu = await startEmulator();
    expect(await registerError({ USER_ID: 9, TYPE: 1, PHONE_NUMBER: 'abc', CALL_START_DATE: 'yesterday-ish' })).toBe(
      'CALL_START_DATE should be in the ISO-8601 format',
    );
    expect(await registerError({ USER_ID: 9, TYPE: 1, PHONE_NUMBER: 'abc' })).toBe('Unsupported phone number format');
    expect(await registerError({ USER_ID: 9, TYPE: 1, PHONE_NUMBER: '+1 555' })).toBe('User is not found or is not active');
    expect(await registerError({ USER_ID: 10, TYPE: 1, PHONE_NUMBER: '+1 555' })).toBe('User is not found or is not active');
    expect(await registerError({ USER_ID: 999, TYPE: 1, PHONE_NUMBER: '+1 555' })).toBe('User is not found or is not active');
  });

  it('resolves USER_PHONE_INNER to the active user owning that extension', async () => {
    emu = await startEmulator();
    const callId = await register(emu, { USER_ID: undefined, USER_PHONE_INNER: '101' });
    expect(emu.calls.get(callId)?.userId).toBe(7);
  });
});

// docs/reference/bitrix24-telephony.md#register
describe('telephony.externalcall.register behaviour', () => {
  it('returns the documented shape with the contact found by phone and a well-formed CALL_ID', async () => {
    const clock = new FakeClock();
    emu = await startEmulator({ clock: clock.fn });
    const r = await callJson(emu, 'telephony.externalcall.register', {
      USER_ID: 7,
      PHONE_NUMBER: '+7 (495) 123-45-67',
      TYPE: 2,
    });
    expect(r.body.result).toEqual({
      CALL_ID: expect.stringMatching(new RegExp(`^externalCall\\.[0-9a-f]{32}\\.${clock.now / 1000}$`)),
      CRM_CREATED_LEAD: null,
      CRM_CREATED_ENTITIES: [],
      CRM_ENTITY_TYPE: 'CONTACT',
      CRM_ENTITY_ID: 651,
    });
    const call = emu.calls.get(r.body.result.CALL_ID)!;
    expect(call.phone).toBe('+74951234567');
    expect(call.portalNumber).toBe('REST_APP:');
    expect([...call.shownTo]).toEqual([7]);
  });

  it('treats SHOW with PHP truthiness: "0" hides, "N" shows', async () => {
    emu = await startEmulator();
    const hidden = await callForm(emu, 'telephony.externalcall.register', 'USER_ID=7&TYPE=1&PHONE_NUMBER=111&SHOW=0');
    expect(emu.calls.get(hidden.body.result.CALL_ID)?.shownTo.size).toBe(0);
    const shown = await callForm(emu, 'telephony.externalcall.register', 'USER_ID=7&TYPE=1&PHONE_NUMBER=222&SHOW=N');
    expect([...(emu.calls.get(shown.body.result.CALL_ID)?.shownTo ?? [])]).toEqual([7]);
  });

  it('returns the same CALL_ID for the same user, number and type within 30 minutes', async () => {
    const clock = new FakeClock();
    emu = await startEmulator({ clock: clock.fn });
    const first = await register(emu);
    clock.tick(29 * 60_000);
    expect(await register(emu)).toBe(first);
    expect(await register(emu, { TYPE: 3 })).not.toBe(first);
    clock.tick(60_001);
    expect(await register(emu)).not.toBe(first);
  });

  it('uses EXTERNAL_CALL_ID as part of the dedup key when given', async () => {
    emu = await startEmulator();
    const a = await register(emu, { EXTERNAL_CALL_ID: '1795263642.90' });
    const b = await register(emu, { EXTERNAL_CALL_ID: '1795263642.91' });
    expect(b).not.toBe(a);
    expect(await register(emu, { EXTERNAL_CALL_ID: '1795263642.91' })).toBe(b);
    // Without EXTERNAL_CALL_ID the filter ignores it and finds an older call.
    expect([a, b]).toContain(await register(emu));
  });

  it('anchors the dedup window on CALL_START_DATE', async () => {
    emu = await startEmulator();
    const old = await register(emu, { CALL_START_DATE: '2020-01-01T10:00:00+03:00' });
    expect(await register(emu, { CALL_START_DATE: '2020-01-01T10:00:00+03:00' })).not.toBe(old);
  });

  it('registers a new call after the previous one is finished', async () => {
    emu = await startEmulator();
    const first = await register(emu);
    await callJson(emu, 'telephony.externalcall.finish', { CALL_ID: first, USER_ID: 7 });
    expect(await register(emu)).not.toBe(first);
  });

  it('creates a lead when CRM_CREATE is set and nothing matches, continuing the lead ids', async () => {
    emu = await startEmulator();
    const r = await callJson(emu, 'telephony.externalcall.register', {
      USER_ID: 7, PHONE_NUMBER: '+15550001111', TYPE: 2, CRM_CREATE: 1, CRM_SOURCE: 'WEB',
    });
    expect(r.body.result).toMatchObject({
      CRM_CREATED_LEAD: 401,
      CRM_CREATED_ENTITIES: [{ ENTITY_TYPE: 'LEAD', ENTITY_ID: 401 }],
      CRM_ENTITY_TYPE: 'LEAD',
      CRM_ENTITY_ID: 401,
    });
    expect(emu.state.crm.LEAD.get(401)).toMatchObject({ title: '+15550001111 - Incoming call', sourceId: 'WEB', assignedById: 7 });
    expect((await callJson(emu, 'crm.lead.add', { fields: { TITLE: 'x' } })).body.result).toBe(402);
  });

  it('does not create a lead for a number found in CRM or when CRM_CREATE is 0', async () => {
    emu = await startEmulator();
    await register(emu, { CRM_CREATE: 1 });
    await register(emu, { PHONE_NUMBER: '+15550002222', CRM_CREATE: '0' });
    expect(emu.state.crm.LEAD.size).toBe(1);
  });

  it('reports LEAD_CREATION_ERROR for a number that belongs to a portal user', async () => {
    emu = await startEmulator();
    const r = await callJson(emu, 'telephony.externalcall.register', {
      USER_ID: 7, PHONE_NUMBER: '+79990001122', TYPE: 2, CRM_CREATE: 1,
    });
    expect(r.body.result.LEAD_CREATION_ERROR).toBe('Lead creation is disabled for local users');
    expect(r.body.result.CRM_CREATED_LEAD).toBeNull();
  });

  it('treats an extension as an internal call without CRM', async () => {
    emu = await startEmulator();
    const r = await callJson(emu, 'telephony.externalcall.register', { USER_ID: 7, PHONE_NUMBER: '102', TYPE: 1, CRM_CREATE: 1 });
    expect(r.body.result).toMatchObject({ CRM_ENTITY_TYPE: '', CRM_ENTITY_ID: null, CRM_CREATED_LEAD: null });
    expect(emu.calls.get(r.body.result.CALL_ID)?.internal).toBe(true);
  });

  it('binds CRM_ENTITY_TYPE/CRM_ENTITY_ID without checking that the entity exists', async () => {
    emu = await startEmulator();
    const r = await callJson(emu, 'telephony.externalcall.register', {
      USER_ID: 7, PHONE_NUMBER: '+74951234567', TYPE: 1, CRM_ENTITY_TYPE: 'COMPANY', CRM_ENTITY_ID: 99999,
    });
    expect(r.body.result).toMatchObject({ CRM_ENTITY_TYPE: 'COMPANY', CRM_ENTITY_ID: 99999 });
  });

  it('auto-creates an unknown LINE_NUMBER and uses it as the portal number', async () => {
    emu = await startEmulator();
    const callId = await register(emu, { LINE_NUMBER: '  74950000000  ' });
    expect(emu.calls.get(callId)?.portalNumber).toBe('74950000000');
    const lines = await callJson(emu, 'telephony.externalLine.get');
    expect(lines.body.result).toEqual([{ NUMBER: '74950000000', NAME: null, CRM_AUTO_CREATE: 'Y' }]);
  });
});
