import { afterEach, describe, expect, it } from 'vitest';
import type { BitrixEmulator, SeedUser } from '../../../src/sim/bitrix-emulator.js';
import { callJson, get, startEmulator } from './helpers.js';

let emu: BitrixEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

const ids = (result: Array<{ ID: string }>) => result.map((u) => u.ID);

// docs/reference/bitrix24-telephony.md#users-and-extensions
describe('user.get', () => {
  it('filters by UF_PHONE_INNER exactly, top-level or inside FILTER', async () => {
    emu = await startEmulator();
    expect(ids((await callJson(emu, 'user.get', { UF_PHONE_INNER: '101' })).body.result)).toEqual(['7']);
    expect(ids((await callJson(emu, 'user.get', { filter: { uf_phone_inner: '102' } })).body.result)).toEqual(['8']);
    expect((await callJson(emu, 'user.get', { FILTER: { UF_PHONE_INNER: '10' } })).body.result).toEqual([]);
  });

  it('lets FILTER replace the whole query and ignores unknown fields', async () => {
    emu = await startEmulator();
    const r = await callJson(emu, 'user.get', { ID: 7, FILTER: { ACTIVE: true, NO_SUCH_FIELD: 'x' } });
    expect(ids(r.body.result)).toEqual(['1', '7', '8']);
  });

  it('never lists bots and finds inactive users only when asked', async () => {
    emu = await startEmulator();
    expect(ids((await callJson(emu, 'user.get')).body.result)).toEqual(['1', '7', '8', '9']);
    expect(ids((await get(`${emu.webhookUrl}user.get?ACTIVE=N`)).body.result)).toEqual(['9']);
  });

  it('answers [] without total when nothing matches', async () => {
    emu = await startEmulator();
    const r = await callJson(emu, 'user.get', { UF_PHONE_INNER: '999' });
    expect(r.body.result).toEqual([]);
    expect(r.body).not.toHaveProperty('total');
  });

  it('pages by 50 with total and next at the top level', async () => {
    const users: SeedUser[] = Array.from({ length: 120 }, (_, i) => ({ ID: i + 1, NAME: `U${i + 1}` }));
    emu = await startEmulator({ users });
    const first = await callJson(emu, 'user.get', { ACTIVE: true });
    expect(first.body.result).toHaveLength(50);
    expect(first.body).toMatchObject({ total: 120, next: 50 });
    const last = await callJson(emu, 'user.get', { ACTIVE: true, start: 100 });
    expect(last.body.result).toHaveLength(20);
    expect(last.body.total).toBe(120);
    expect(last.body).not.toHaveProperty('next');
  });

  it('sorts when both sort and order are given', async () => {
    emu = await startEmulator();
    const r = await callJson(emu, 'user.get', { sort: 'UF_PHONE_INNER', order: 'DESC', ACTIVE: true });
    expect(ids(r.body.result)).toEqual(['8', '7', '1']);
  });
});

// docs/reference/bitrix24-telephony.md#crm-helpers
describe('CRM methods', () => {
  it('finds duplicates by phone, grouped by type, and answers [] when nothing matches', async () => {
    emu = await startEmulator();
    const r = await callJson(emu, 'crm.duplicate.findbycomm', { type: 'PHONE', values: ['+7 495 123 45 67'] });
    expect(r.body.result).toEqual({ LEAD: [400], CONTACT: [651], COMPANY: [31] });
    const contacts = await callJson(emu, 'crm.duplicate.findbycomm', { type: 'PHONE', values: ['74951234567'], entity_type: 'CONTACT' });
    expect(contacts.body.result).toEqual({ CONTACT: [651] });
    expect((await callJson(emu, 'crm.duplicate.findbycomm', { type: 'PHONE', values: ['+1'] })).body.result).toEqual([]);
  });

  it('reports findbycomm errors with the text as the code', async () => {
    emu = await startEmulator();
    const noType = await callJson(emu, 'crm.duplicate.findbycomm', { values: ['1'] });
    expect(noType.status).toBe(400);
    expect(noType.body.error).toBe('Communication type is not defined');
    expect((await callJson(emu, 'crm.duplicate.findbycomm', { type: 'FAX', values: ['1'] })).body.error).toBe(
      "Communication type 'FAX' is not supported in current context",
    );
    expect((await callJson(emu, 'crm.duplicate.findbycomm', { type: 'PHONE' })).body.error).toBe(
      'Communication values is not defined',
    );
  });

  it('adds a lead that the phone search then finds', async () => {
    emu = await startEmulator();
    const r = await callJson(emu, 'crm.lead.add', {
      fields: { TITLE: 'From PBX', PHONE: [{ VALUE: '+1 202 555 0100', VALUE_TYPE: 'WORK' }], ASSIGNED_BY_ID: 8 },
    });
    expect(r.body.result).toBe(401);
    const found = await callJson(emu, 'crm.duplicate.findbycomm', { type: 'PHONE', values: ['+12025550100'] });
    expect(found.body.result).toEqual({ LEAD: [401] });
    expect((await callJson(emu, 'crm.lead.get', { id: 401 })).body.result).toMatchObject({ ID: '401', ASSIGNED_BY_ID: '8' });
    expect((await callJson(emu, 'crm.lead.add', {})).body).toEqual({ error: '', error_description: "The parameter 'fields' must be array." });
    expect((await callJson(emu, 'crm.contact.get', { id: 5 })).body.error_description).toBe('Not found');
  });

  it('adds timeline comments to existing entities only', async () => {
    emu = await startEmulator();
    const ok = await callJson(emu, 'crm.timeline.comment.add', { fields: { ENTITY_ID: 651, ENTITY_TYPE: 'contact', COMMENT: 'Missed call' } });
    expect(ok.body.result).toBe(1);
    expect(emu.state.comments).toEqual([{ id: 1, entityType: 'contact', entityId: 651, comment: 'Missed call' }]);
    const missing = await callJson(emu, 'crm.timeline.comment.add', { fields: { ENTITY_ID: 1, ENTITY_TYPE: 'lead', COMMENT: 'x' } });
    expect(missing.body.error).toBe('NOT_FOUND');
    const empty = await callJson(emu, 'crm.timeline.comment.add', { fields: { ENTITY_ID: 651, ENTITY_TYPE: 'contact', COMMENT: ' ' } });
    expect(empty.body.error).toBe('INVALID_ARG_VALUE');
  });
});

describe('notifications, tasks and probes', () => {
  it('sends im.notify to an existing user and validates recipient and message', async () => {
    emu = await startEmulator();
    expect((await callJson(emu, 'im.notify', { to: 7, message: 'Missed call from +7495' })).body.result).toBe(1);
    expect(emu.state.notifications[0]).toMatchObject({ id: 1, userId: 7, message: 'Missed call from +7495' });
    expect((await callJson(emu, 'im.notify', { message: 'x' })).body.error).toBe('USER_ID_EMPTY');
    expect((await callJson(emu, 'im.notify', { USER_ID: 7 })).body.error).toBe('MESSAGE_EMPTY');
    expect(emu.commands.map((c) => c.ok)).toEqual([true, false, false]);
  });

  it('adds a task and returns it under result.task with a string id', async () => {
    emu = await startEmulator();
    const r = await callJson(emu, 'tasks.task.add', { fields: { TITLE: 'Call back', RESPONSIBLE_ID: 8 } });
    expect(r.body.result.task).toMatchObject({ id: '1', title: 'Call back', responsibleId: '8' });
    expect((await callJson(emu, 'tasks.task.add', { fields: { RESPONSIBLE_ID: 8 } })).body.error_description).toBe('Task title not specified<br>');
    expect((await callJson(emu, 'tasks.task.add', { fields: { TITLE: 'x', RESPONSIBLE_ID: 555 } })).body.error).toBe('ERROR_CORE');
  });

  it('answers profile, scope, app.info and methods for the webhook', async () => {
    emu = await startEmulator({ scopes: ['telephony', 'user'] });
    expect((await callJson(emu, 'profile')).body.result).toMatchObject({ ID: '1', ADMIN: true, NAME: 'Admin' });
    expect((await callJson(emu, 'scope')).body.result).toEqual(['telephony', 'user']);
    expect((await callJson(emu, 'app.info')).body.result).toEqual({ SCOPE: ['telephony', 'user'], LICENSE: 'en_project' });
    const methods = (await callJson(emu, 'methods')).body.result as string[];
    expect(methods).toContain('telephony.externalcall.register');
    expect(methods).not.toContain('crm.lead.add');
  });
});
