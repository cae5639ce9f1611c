import { afterEach, describe, expect, it } from 'vitest';
import type { BitrixEmulator } from '../../../src/sim/bitrix-emulator.js';
import { callForm, callJson, register, startEmulator } from './helpers.js';

let emu: BitrixEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

// docs/reference/bitrix24-telephony.md#show-and-hide
describe('telephony.externalcall.show / hide', () => {
  it('returns false for an unknown CALL_ID and true for a live call', async () => {
    emu = await startEmulator();
    expect((await callJson(emu, 'telephony.externalcall.show', { CALL_ID: 'externalCall.nope.1' })).body.result).toBe(false);
    const callId = await register(emu);
    expect((await callJson(emu, 'telephony.externalcall.hide', { CALL_ID: callId })).body.result).toBe(true);
    expect([...emu.calls.get(callId)!.hiddenFor]).toEqual([7]);
  });

  it('returns false for hide after finish, so other users must be hidden before', async () => {
    emu = await startEmulator();
    const callId = await register(emu);
    await callForm(emu, 'telephony.externalcall.show', `CALL_ID=${callId}&USER_ID[]=8`);
    await callJson(emu, 'telephony.externalcall.finish', { CALL_ID: callId, USER_ID: 7, DURATION: 5 });
    expect((await callJson(emu, 'telephony.externalcall.hide', { CALL_ID: callId, USER_ID: 8 })).body.result).toBe(false);
    const call = emu.calls.get(callId)!;
    // finish hid the card of the finishing user only.
    expect([...call.hiddenFor]).toEqual([7]);
    expect([...call.shownTo]).toEqual([8]);
  });
});

// docs/reference/bitrix24-telephony.md#finish
describe('telephony.externalcall.finish', () => {
  it('returns the statistics row with the documented keys and defaults', async () => {
    emu = await startEmulator();
    const callId = await register(emu, { EXTERNAL_CALL_ID: 'pbx-1' });
    const r = await callJson(emu, 'telephony.externalcall.finish', { CALL_ID: callId, USER_ID: 8, DURATION: 95, VOTE: 5 });
    expect(r.status).toBe(200);
    expect(r.body.result).toEqual({
      CALL_ID: callId,
      EXTERNAL_CALL_ID: 'pbx-1',
      PORTAL_USER_ID: 8,
      PHONE_NUMBER: '+74951234567',
      PORTAL_NUMBER: 'REST_APP:',
      INCOMING: '2',
      CALL_DURATION: 95,
      CALL_START_DATE: {},
      CALL_STATUS: 1,
      CALL_VOTE: 5,
      COST: 0,
      COST_CURRENCY: '',
      CALL_FAILED_CODE: '200',
      CALL_FAILED_REASON: '',
      REST_APP_ID: null,
      REST_APP_NAME: false,
      CRM_ACTIVITY_ID: 1,
      COMMENT: null,
      CRM_ENTITY_TYPE: 'CONTACT',
      CRM_ENTITY_ID: 651,
      ID: 1,
    });
    expect(emu.statistics).toEqual([r.body.result]);
    expect(emu.calls.get(callId)?.finished).toBe(true);
  });

  it('defaults STATUS_CODE to 304 without duration and stores any other text as is', async () => {
    emu = await startEmulator();
    const missed = await callJson(emu, 'telephony.externalcall.finish', { CALL_ID: await register(emu), USER_ID: 7 });
    expect(missed.body.result).toMatchObject({ CALL_FAILED_CODE: '304', CALL_STATUS: 0 });
    const custom = await callForm(
      emu,
      'telephony.externalcall.finish',
      `CALL_ID=${await register(emu, { PHONE_NUMBER: '+1777' })}&USER_ID=7&STATUS_CODE=603-S&DURATION=0`,
    );
    expect(custom.body.result.CALL_FAILED_CODE).toBe('603-S');
  });

  it('fails the second finish with the text missing its closing parenthesis', async () => {
    emu = await startEmulator();
    const callId = await register(emu);
    expect((await callJson(emu, 'telephony.externalcall.finish', { CALL_ID: callId, USER_ID: 7 })).status).toBe(200);
    const again = await callJson(emu, 'telephony.externalcall.finish', { CALL_ID: callId, USER_ID: 7 });
    expect(again.status).toBe(400);
    expect(again.body).toEqual({
      error: '',
      error_description: 'Call is not found (call should be registered prior to finishing',
    });
  });

  it('rejects a non-string CALL_ID with INVALID_ARGUMENT, but only after the user check', async () => {
    emu = await startEmulator();
    const numeric = await callJson(emu, 'telephony.externalcall.finish', { CALL_ID: 12345, USER_ID: 7 });
    expect(numeric.status).toBe(400);
    expect(numeric.body).toEqual({ error: 'INVALID_ARGUMENT', error_description: 'CALL_ID must be a string' });
    const noUser = await callJson(emu, 'telephony.externalcall.finish', { CALL_ID: 12345 });
    expect(noUser.body.error_description).toBe('USER_ID or USER_PHONE_INNER should be set');
  });

  it('checks the finishing user after finding the call', async () => {
    emu = await startEmulator();
    const callId = await register(emu);
    const r = await callJson(emu, 'telephony.externalcall.finish', { CALL_ID: callId, USER_ID: 9 });
    expect(r.body.error_description).toBe('User is not found or is not active');
    expect(emu.calls.get(callId)?.finished).toBe(false);
  });

  it('adds a chat message only when ADD_TO_CHAT is truthy', async () => {
    emu = await startEmulator();
    await callJson(emu, 'telephony.externalcall.finish', { CALL_ID: await register(emu), USER_ID: 7 });
    expect(emu.state.chatMessages).toHaveLength(0);
    await callJson(emu, 'telephony.externalcall.finish', {
      CALL_ID: await register(emu, { PHONE_NUMBER: '+1888' }), USER_ID: 7, ADD_TO_CHAT: 1,
    });
    expect(emu.state.chatMessages).toHaveLength(1);
  });

  it('hands a created lead to the finishing user and reports ERRORS when nothing can be bound', async () => {
    emu = await startEmulator();
    const withLead = await register(emu, { PHONE_NUMBER: '+1999', CRM_CREATE: 1 });
    await callJson(emu, 'telephony.externalcall.finish', { CALL_ID: withLead, USER_ID: 8 });
    expect(emu.state.crm.LEAD.get(401)?.assignedById).toBe(8);

    const orphan = await register(emu, { PHONE_NUMBER: '+1000' });
    const r = await callJson(emu, 'telephony.externalcall.finish', { CALL_ID: orphan, USER_ID: 7 });
    expect(r.body.result.CRM_ACTIVITY_ID).toBeNull();
    expect(r.body.result.CRM_ENTITY_TYPE).toBeUndefined();
    expect(r.body.result.ERRORS).toEqual({ ACTIVITY_CREATION: 'Could not find associated crm entity for the current call' });
    expect(emu.statistics.at(-1)).not.toHaveProperty('ERRORS');
  });
});

// docs/reference/bitrix24-telephony.md#search-crm-entities
describe('telephony.externalCall.searchCrmEntities', () => {
  it('lists contacts, then leads, then companies with the responsible user block', async () => {
    emu = await startEmulator();
    const r = await callJson(emu, 'telephony.externalCall.searchCrmEntities', { PHONE_NUMBER: '+74951234567' });
    expect(r.body.result.map((e: { CRM_ENTITY_TYPE: string }) => e.CRM_ENTITY_TYPE)).toEqual(['CONTACT', 'LEAD', 'COMPANY']);
    expect(r.body.result[0]).toEqual({
      CRM_ENTITY_TYPE: 'CONTACT',
      CRM_ENTITY_ID: 651,
      ASSIGNED_BY_ID: 7,
      NAME: 'John Doe',
      ASSIGNED_BY: {
        ID: '7',
        TIMEMAN_STATUS: 'OPENED',
        USER_PHONE_INNER: '101',
        WORK_PHONE: null,
        PERSONAL_PHONE: null,
        PERSONAL_MOBILE: null,
      },
    });
  });

  it('answers [] for an unknown number and an error for an empty one', async () => {
    emu = await startEmulator();
    expect((await callJson(emu, 'telephony.externalCall.searchCrmEntities', { PHONE_NUMBER: '+1' })).body.result).toEqual([]);
    const r = await callJson(emu, 'telephony.externalCall.searchCrmEntities', {});
    expect(r.body).toEqual({ error: '', error_description: 'PHONE_NUMBER is empty' });
  });
});

// docs/reference/bitrix24-telephony.md#external-lines
describe('telephony.externalLine.*', () => {
  it('adds, updates, lists and deletes lines with the documented results', async () => {
    emu = await startEmulator();
    expect((await callJson(emu, 'telephony.externalLine.add', { NUMBER: ' 14151234567 ', NAME: 'Support' })).body.result).toEqual({ ID: 1 });
    expect((await callJson(emu, 'telephony.externalLine.add', { NUMBER: '14151234567' })).body.error_description).toBe('Line already exists');
    expect((await callJson(emu, 'telephony.externalLine.update', { NUMBER: '14151234567', CRM_AUTO_CREATE: 'N' })).body.result).toEqual({ ID: '1' });
    expect((await callJson(emu, 'telephony.externalLine.get')).body.result).toEqual([
      { NUMBER: '14151234567', NAME: 'Support', CRM_AUTO_CREATE: 'N' },
    ]);
    expect((await callJson(emu, 'telephony.externalLine.delete', { NUMBER: '14151234567' })).body.result).toEqual([]);
    expect((await callJson(emu, 'telephony.externalLine.get')).body.result).toEqual([]);
  });

  it('reports the documented validation texts', async () => {
    emu = await startEmulator();
    const text = async (m: string, p: object) => (await callJson(emu!, m, p)).body.error_description;
    expect(await text('telephony.externalLine.add', { NUMBER: '  ' })).toBe('NUMBER should not be empty');
    expect(await text('telephony.externalLine.update', { NUMBER: '1' })).toBe('There are no fields to update');
    expect(await text('telephony.externalLine.update', { NAME: 'x' })).toBe('NUMBER should not be empty');
    expect(await text('telephony.externalLine.update', { NUMBER: '404', NAME: 'x' })).toBe('Could not find line with number 404');
    expect(await text('telephony.externalLine.delete', { NUMBER: '404' })).toBe('Could not find line with number 404');
  });
});
