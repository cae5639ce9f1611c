import { afterEach, describe, expect, it } from 'vitest';
import type { BitrixEmulator } from '../../../src/sim/bitrix-emulator.js';
import { phpUrlencode } from '../../../src/sim/bitrix/php-form.js';
import { callForm, callJson, startEmulator } from './helpers.js';

let emu: BitrixEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

const REGISTER = 'telephony.externalcall.register?USER_ID=7&PHONE_NUMBER=%2B74951234567&TYPE=2&SHOW=0';

// docs/reference/bitrix24-rest.md#batch
describe('batch', () => {
  it('feeds a register CALL_ID into show through a $result reference in a JSON body', async () => {
    emu = await startEmulator();
    const r = await callJson(emu, 'batch', {
      halt: 0,
      cmd: {
        reg: REGISTER,
        show: 'telephony.externalcall.show?CALL_ID=$result[reg][CALL_ID]&USER_ID[]=1',
      },
    });
    expect(r.status).toBe(200);
    const callId = r.body.result.result.reg.CALL_ID as string;
    expect(r.body.result.result.show).toBe(true);
    expect(r.body.result.result_error).toEqual([]);
    expect(r.body.result.result_total).toEqual([]);
    expect(r.body.result.result_next).toEqual([]);
    expect(Object.keys(r.body.result.result_time)).toEqual(['reg', 'show']);
    expect(Object.keys(r.body.result.result_time.reg)).toEqual(['start', 'finish', 'duration', 'processing', 'date_start', 'date_finish']);
    expect(r.body.time).toBeDefined();
    expect([...emu.calls.get(callId)!.shownTo]).toEqual([1]);
    expect(emu.commands.map((c) => [c.method, c.viaBatch])).toEqual([
      ['telephony.externalcall.register', true],
      ['telephony.externalcall.show', true],
      ['batch', false],
    ]);
    expect(emu.commands[1]?.params).toEqual({ CALL_ID: callId, USER_ID: ['1'] });
  });

  it('accepts the doubly-encoded form body with cmd[key]=…', async () => {
    emu = await startEmulator();
    const show = 'telephony.externalcall.show?CALL_ID=$result[reg][CALL_ID]&USER_ID[]=8';
    const body = `cmd[reg]=${phpUrlencode(REGISTER)}&cmd[show]=${phpUrlencode(show)}`;
    const r = await callForm(emu, 'batch', body);
    expect(r.body.result.result.show).toBe(true);
  });

  it('keeps arrays for a whole-value reference and interpolates strings otherwise', async () => {
    emu = await startEmulator();
    const r = await callJson(emu, 'batch', {
      cmd: {
        users: 'user.get?FILTER[ACTIVE]=Y',
        notify: 'im.notify?to=$result[users][0][ID]&message=Hi $result[users][1][NAME]',
        ids: 'crm.duplicate.findbycomm?type=PHONE&values=$result[users]',
      },
    });
    expect(emu.commands[1]?.params).toEqual({ to: '1', message: 'Hi Anna' });
    // The whole array of users was passed as `values` (their phones match nothing).
    expect(Array.isArray(emu.commands[2]?.params.values)).toBe(true);
    expect(r.body.result.result_total).toEqual({ users: 3 });
  });

  it('renders result.result as a JSON list for keys 0..n-1 and an object once one fails', async () => {
    emu = await startEmulator();
    const list = await callJson(emu, 'batch', { cmd: ['scope', 'server.time'] });
    expect(Array.isArray(list.body.result.result)).toBe(true);
    const mixed = await callJson(emu, 'batch', { cmd: ['no.such.method', 'scope'] });
    expect(mixed.body.result.result).toEqual({ 1: ['telephony', 'crm', 'user', 'im', 'task'] });
    expect(mixed.body.result.result_error).toEqual([{ error: 'ERROR_METHOD_NOT_FOUND', error_description: 'Method not found!' }]);
  });

  it('stops after the first failure when halt is set', async () => {
    emu = await startEmulator();
    const r = await callJson(emu, 'batch', {
      halt: 1,
      cmd: { a: 'scope', b: 'telephony.externalcall.finish?CALL_ID=x&USER_ID=7', c: 'server.time' },
    });
    expect(Object.keys(r.body.result.result)).toEqual(['a']);
    expect(r.body.result.result_error.b.error_description).toBe('Call is not found (call should be registered prior to finishing');
    expect(emu.commands.map((c) => c.method)).toEqual(['scope', 'telephony.externalcall.finish', 'batch']);
  });

  it('executes at most 50 commands and reports the rest as ERROR_BATCH_LENGTH_EXCEEDED', async () => {
    emu = await startEmulator();
    const cmd = Object.fromEntries(Array.from({ length: 52 }, (_, i) => [`k${i}`, 'scope']));
    const r = await callJson(emu, 'batch', { cmd });
    expect(Object.keys(r.body.result.result)).toHaveLength(50);
    expect(r.body.result.result_error).toEqual({
      k50: { error: 'ERROR_BATCH_LENGTH_EXCEEDED', error_description: 'Max batch length exceeded' },
      k51: { error: 'ERROR_BATCH_LENGTH_EXCEEDED', error_description: 'Max batch length exceeded' },
    });
    expect(emu.commands.filter((c) => c.viaBatch)).toHaveLength(50);
  });

  it('refuses batch and upload inside a batch and checks scopes per command', async () => {
    emu = await startEmulator({ scopes: ['user'] });
    const r = await callJson(emu, 'batch', { cmd: { inner: 'batch?cmd[a]=scope', up: 'upload', reg: REGISTER } });
    expect(r.body.result.result_error.inner.error).toBe('ERROR_BATCH_METHOD_NOT_ALLOWED');
    expect(r.body.result.result_error.up.error).toBe('ERROR_BATCH_METHOD_NOT_ALLOWED');
    expect(r.body.result.result_error.reg.error).toBe('insufficient_scope');
    expect(r.body.result.result).toEqual([]);
  });
});
