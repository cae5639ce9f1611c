import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { BitrixEmulator } from '../../../src/sim/bitrix-emulator.js';
import { parseStr } from '../../../src/sim/bitrix/php-form.js';
import { FakeClock, T0, callJson, startEmulator, clickData } from './helpers.js';

let emu: BitrixEmulator | undefined;
let receiver: Server | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
  await new Promise((resolve) => (receiver ? receiver.close(resolve) : resolve(undefined)));
  receiver = undefined;
});

interface Received {
  contentType: string | undefined;
  body: string;
}

async function startReceiver(status = 200): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  receiver = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ contentType: req.headers['content-type'], body: Buffer.concat(chunks).toString() });
      res.writeHead(status).end('ignored');
    });
  });
  await new Promise<void>((resolve) => receiver!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/bitrix/events`, received };
}

// docs/reference/bitrix24-apps.md#event-delivery
describe('sendEvent', () => {
  it('registers the click-to-call internally and posts a form-encoded ONEXTERNALCALLSTART', async () => {
    const clock = new FakeClock();
    emu = await startEmulator({ clock: clock.fn });
    const { url, received } = await startReceiver();
    const callId = await emu.sendEvent(url, 'ONEXTERNALCALLSTART', { USER_ID: 7, PHONE_NUMBER: '+7 (495) 123-45-67' }, {
      applicationToken: 'app-token-1',
    });

    expect(callId).toMatch(/^externalCall\.[0-9a-f]{32}\.\d+$/);
    expect(received[0]?.contentType).toBe('application/x-www-form-urlencoded');
    expect(received[0]?.body).toContain('auth%5Bapplication_token%5D=app-token-1');
    expect(parseStr(received[0]?.body ?? '')).toEqual({
      event: 'ONEXTERNALCALLSTART',
      event_handler_id: '1',
      data: clickData(callId!),
      ts: String(T0 / 1000),
      auth: {
        domain: new URL(emu.url).host,
        client_endpoint: `${emu.url}/rest/`,
        server_endpoint: 'https://oauth.bitrix.info/rest/',
        member_id: expect.stringMatching(/^[0-9a-f]{32}$/),
        application_token: 'app-token-1',
      },
    });

    const call = emu.calls.get(callId!)!;
    expect(call).toMatchObject({ type: 1, userId: 7, externalCallId: null, registeredVia: 'internal' });
    // Bitrix registered it, not the daemon: nothing in the REST log.
    expect(emu.commands).toEqual([]);
    expect(emu.events[0]).toMatchObject({ event: 'ONEXTERNALCALLSTART', status: 200 });
    // The daemon can finish it with the CALL_ID from the event.
    expect((await callJson(emu, 'telephony.externalcall.finish', { CALL_ID: callId, USER_ID: 7 })).status).toBe(200);
  });

  it('includes the created lead for an unknown number and omits event_handler_id on request', async () => {
    emu = await startEmulator();
    const { url, received } = await startReceiver();
    await emu.sendEvent(url, 'ONEXTERNALCALLSTART', { USER_ID: 8, PHONE_NUMBER: '+15550009999' }, {
      applicationToken: 't',
      eventHandlerId: null,
    });
    const parsed = parseStr(received[0]?.body ?? '') as { data: Record<string, unknown>; event_handler_id?: string };
    expect(parsed.event_handler_id).toBeUndefined();
    expect(parsed.data).toMatchObject({
      CRM_ENTITY_TYPE: 'LEAD',
      CRM_ENTITY_ID: '401',
      CRM_CREATED_LEAD: '401',
      CRM_CREATED_ENTITIES: [{ ENTITY_TYPE: 'LEAD', ENTITY_ID: '401' }],
    });
  });

  it('passes ONEXTERNALCALLBACKSTART data through without a CALL_ID', async () => {
    emu = await startEmulator();
    const { url, received } = await startReceiver();
    const result = await emu.sendEvent(
      url,
      'ONEXTERNALCALLBACKSTART',
      { PHONE_NUMBER: '+74951234567', TEXT: 'Call the client', VOICE: 'ruinternalfemale', CRM_ENTITY_TYPE: 'LEAD', CRM_ENTITY_ID: 400, LINE_NUMBER: '' },
      { applicationToken: 't' },
    );
    expect(result).toBeUndefined();
    expect((parseStr(received[0]?.body ?? '') as { data: unknown }).data).toEqual({
      PHONE_NUMBER: '+74951234567',
      TEXT: 'Call the client',
      VOICE: 'ruinternalfemale',
      CRM_ENTITY_TYPE: 'LEAD',
      CRM_ENTITY_ID: '400',
      LINE_NUMBER: '',
    });
    expect(emu.calls.size).toBe(0);
  });

  it('does not retry a failed delivery and records the outcome', async () => {
    emu = await startEmulator();
    const { url, received } = await startReceiver(500);
    await emu.sendEvent(url, 'ONEXTERNALCALLBACKSTART', { PHONE_NUMBER: '1' }, { applicationToken: 't' });
    await emu.sendEvent('http://127.0.0.1:1/unreachable', 'ONEXTERNALCALLBACKSTART', { PHONE_NUMBER: '1' }, { applicationToken: 't' });
    expect(received).toHaveLength(1);
    expect(emu.events[0]?.status).toBe(500);
    expect(emu.events[1]?.error).toBeDefined();
  });

  it('refuses to send ONEXTERNALCALLSTART for a user the portal cannot register', async () => {
    emu = await startEmulator();
    await expect(
      emu.sendEvent('http://127.0.0.1:1/', 'ONEXTERNALCALLSTART', { USER_ID: 9, PHONE_NUMBER: '1' }, { applicationToken: 't' }),
    ).rejects.toThrow('User is not found or is not active');
    expect(emu.events).toEqual([]);
  });
});
