import { afterEach, describe, expect, it } from 'vitest';
import type { BitrixEmulator } from '../../../src/sim/bitrix-emulator.js';
import { callApp, startAppEmulator } from './app-helpers.js';
import { callJson, register } from './helpers.js';

let emu: BitrixEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

const WRONG_AUTH_TYPE = { error: 'WRONG_AUTH_TYPE', error_description: 'Current authorization type is denied for this method' };

/** The methods the 2026 docs call application-only, with params that succeed when allowed. */
const GATED: Array<[string, (e: BitrixEmulator) => Promise<Record<string, unknown>>]> = [
  ['telephony.externalcall.register', async () => ({ USER_ID: 7, PHONE_NUMBER: '+74951234567', TYPE: 2 })],
  ['telephony.externalcall.finish', async (e) => {
    e.setRefuseWebhookTelephony(false);
    const callId = await register(e);
    e.setRefuseWebhookTelephony(true);
    return { CALL_ID: callId, USER_ID: 7 };
  }],
  ['telephony.externalLine.add', async () => ({ NUMBER: '555' })],
  ['telephony.externalLine.update', async (e) => {
    e.setRefuseWebhookTelephony(false);
    await callJson(e, 'telephony.externalLine.add', { NUMBER: '555' });
    e.setRefuseWebhookTelephony(true);
    return { NUMBER: '555', NAME: 'x' };
  }],
  ['telephony.externalLine.delete', async (e) => {
    e.setRefuseWebhookTelephony(false);
    await callJson(e, 'telephony.externalLine.add', { NUMBER: '555' });
    e.setRefuseWebhookTelephony(true);
    return { NUMBER: '555' };
  }],
  ['telephony.externalLine.get', async () => ({})],
];

describe('the auth-type gate (WRONG_AUTH_TYPE)', () => {
  it.each(GATED)('refuses %s to a webhook with HTTP 403 when refuseWebhookTelephony is on', async (method, paramsFor) => {
    emu = await startAppEmulator({ refuseWebhookTelephony: true });
    const params = await paramsFor(emu);
    const before = emu.calls.size;
    const r = await callJson(emu, method, params);
    expect([r.status, r.body]).toEqual([403, WRONG_AUTH_TYPE]);
    expect(emu.calls.size).toBe(before);
    expect(emu.commands.at(-1)).toMatchObject({ method: method.toLowerCase(), ok: false, error: WRONG_AUTH_TYPE, authType: 'webhook' });
  });

  it.each(GATED)('lets %s through for a webhook when the switch is off (the published source)', async (method, paramsFor) => {
    emu = await startAppEmulator({ refuseWebhookTelephony: true });
    const params = await paramsFor(emu);
    emu.setRefuseWebhookTelephony(false);
    expect((await callJson(emu, method, params)).status).toBe(200);
  });

  it.each(GATED)('lets %s through for the app while webhooks are refused', async (method, paramsFor) => {
    emu = await startAppEmulator({ refuseWebhookTelephony: true });
    const params = await paramsFor(emu);
    if (method === 'telephony.externalLine.update' || method === 'telephony.externalLine.delete') {
      // Lines belong to their caller: the app works on its own line.
      await callApp(emu, 'telephony.externalLine.add', { NUMBER: '555' }, emu.issueAppTokens().accessToken);
    }
    const r = await callApp(emu, method, params, emu.issueAppTokens().accessToken);
    expect(r.status).toBe(200);
  });

  it('never gates show, hide, attachRecord or searchCrmEntities', async () => {
    emu = await startAppEmulator();
    const callId = await register(emu);
    emu.setRefuseWebhookTelephony(true);
    expect((await callJson(emu, 'telephony.externalcall.show', { CALL_ID: callId, USER_ID: 7 })).body.result).toBe(true);
    expect((await callJson(emu, 'telephony.externalcall.hide', { CALL_ID: callId, USER_ID: 7 })).body.result).toBe(true);
    expect((await callJson(emu, 'telephony.externalcall.searchCrmEntities', { PHONE_NUMBER: '+74951234567' })).status).toBe(200);
    expect((await callJson(emu, 'telephony.externalcall.attachRecord', { CALL_ID: callId, FILENAME: 'a.mp3' })).body.error).toBe('');
  });

  it('fails the refused command inside a webhook batch and runs the others', async () => {
    emu = await startAppEmulator({ refuseWebhookTelephony: true });
    const r = await callJson(emu, 'batch', {
      halt: 0,
      cmd: {
        reg: 'telephony.externalcall.register?USER_ID=7&PHONE_NUMBER=%2B74951234567&TYPE=2',
        who: 'user.current',
      },
    });
    expect(r.status).toBe(200);
    expect(r.body.result.result_error).toEqual({ reg: WRONG_AUTH_TYPE });
    expect(Object.keys(r.body.result.result)).toEqual(['who']);
    expect(emu.calls.size).toBe(0);
  });

  it('switches at run time', async () => {
    emu = await startAppEmulator();
    expect((await callJson(emu, 'telephony.externalLine.get')).status).toBe(200);
    emu.setRefuseWebhookTelephony(true);
    expect((await callJson(emu, 'telephony.externalLine.get')).status).toBe(403);
    emu.reset();
    expect((await callJson(emu, 'telephony.externalLine.get')).status).toBe(200);
  });
});
