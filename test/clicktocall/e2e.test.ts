import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { AmiFramer } from '../../src/ami/framer.js';
import { createBitrixClient } from '../../src/bitrix/client.js';
import { LeakyBucket } from '../../src/bitrix/limiter.js';
import { MemoryOutboxStore } from '../../src/bitrix/outbox-entry.js';
import { startEndpoint, type Endpoint } from '../../src/clicktocall/endpoint.js';
import { clickToCallSchema, httpServerKeys } from '../../src/config/http.js';
import { configSchema, type Config } from '../../src/config/schema.js';
import { startBridge, type Bridge } from '../../src/daemon/app.js';
import { DEMO_CRM, DEMO_USERS } from '../../src/demo/scenarios.js';
import { startAmiSimulator, type AmiSimulator } from '../../src/sim/ami-simulator.js';
import { startBitrixEmulator, type BitrixEmulator } from '../../src/sim/bitrix-emulator.js';
import { z } from 'zod';
import { AMI_DIR, traceBytes } from '../support/traces.js';
import { originates, TOKEN } from './harness.js';
import { waitFor } from '../support/wait.js';

/**
 * The real thing, end to end: the Bitrix24 emulator posts its events to our real HTTP server; the service
 * originates on the AMI simulator; the recorded click_to_call trace is replayed under our ChannelId; the
 * daemon's own core and outbox send the card and the finish to the emulator.
 */

let portal: BitrixEmulator | undefined;
let pbx: AmiSimulator | undefined;
let bridge: Bridge | undefined;
let endpoint: Endpoint | undefined;

afterEach(async () => {
  await endpoint?.close(100);
  await bridge?.stop(2000);
  await pbx?.close();
  await portal?.close();
  endpoint = bridge = pbx = portal = undefined;
});

const logger = pino({ level: 'silent' });
const EXTENSIONS = { '101': 11, '102': 12 };
const reverse = (id: number) => Object.entries(EXTENSIONS).find(([, u]) => u === id)?.[0];

async function setUp(o: { allow?: string[]; maxBodyBytes?: number } = {}): Promise<string> {
  portal = await startBitrixEmulator({ users: DEMO_USERS, crm: DEMO_CRM });
  pbx = await startAmiSimulator({ username: 'bridge', secret: 'ami-secret' });
  const config: Config = configSchema.parse({
    asterisk: { ami: { host: pbx.host, port: pbx.port, username: 'bridge', secret: 'ami-secret', reconnect: { initialDelayMs: 400, maxDelayMs: 400 } } },
    bitrix: { webhookUrl: portal.webhookUrl, applicationToken: TOKEN, defaultUserId: 1 },
    users: { extensions: EXTENSIONS, refreshIntervalSec: 0 },
    http: { host: '127.0.0.1', port: 0 },
    // For the tests that use the daemon's own endpoint.
    clickToCall: { callback: { queueExten: '600' } },
  });
  // In memory: the tests must not share (or leave) a state database on disk.
  bridge = await startBridge(config, { logger, store: new MemoryOutboxStore() });
  const http = { ...z.strictObject(httpServerKeys).parse({ allow: o.allow ?? [], maxBodyBytes: o.maxBodyBytes ?? 65536 }), host: '127.0.0.1', port: 0 };
  // As the fixture was recorded: the agent's Local channel first, then the `outbound` context dials the customer.
  const clickToCall = clickToCallSchema.parse({
    agentChannel: 'Local/{ext}@agents/n',
    context: 'outbound',
    callerId: 'Click2Call <{number}>',
    callback: { target: 'responsible', queueExten: '600' },
  });
  const b = bridge;
  endpoint = await startEndpoint(
    { http, clickToCall, bitrix: config.bitrix },
    {
      ami: b.ami,
      bitrix: createBitrixClient({ webhookUrl: portal.webhookUrl, limiter: new LeakyBucket({ perSecond: 2, burst: 50 }) }),
      submit: (input) => b.runtime.handleInput(input),
      userExtension: reverse,
      health: () => ({ ami: b.ami.isConnected, portal: true, outboxDepth: b.outbox.depth }),
      logger,
    },
  );
  return `http://127.0.0.1:${endpoint.server.port}/bitrix/events`;
}


const telephony = (p: BitrixEmulator) =>
  p.commands.filter((c) => c.method.startsWith('telephony.')).map((c) => ({ method: c.method.replace('telephony.externalcall.', ''), params: c.params }));

/** The fixture's Originate as the recording client sent it. */
function recordedOriginate(): Record<string, string> {
  const sent = readFileSync(`${AMI_DIR}click_to_call.sent`);
  for (const out of new AmiFramer({ expectBanner: false }).push(sent)) {
    if (out.type === 'message' && out.message['Action'] === 'Originate') return out.message as Record<string, string>;
  }
  throw new Error('no Originate in click_to_call.sent');
}

describe('click-to-call through the real server', () => {
  it('rings the agent then the customer, shows one card and finishes once with 200, without registering again', async () => {
    const url = await setUp();
    const callId = await portal!.sendEvent(url, 'ONEXTERNALCALLSTART', { USER_ID: 11, PHONE_NUMBER: '555-98-76' }, { applicationToken: TOKEN });
    expect(portal!.events.at(-1)?.status).toBe(200);
    const originate = await pbx!.waitForAction('Originate', undefined, 15_000);
    const recorded = recordedOriginate();
    const channelId = originate['ChannelId'] as string;
    expect(originate).toEqual({
      ...recorded,
      ActionID: expect.any(String),
      ChannelId: expect.stringMatching(/^c2c-[0-9a-f]{16}-/),
      OtherChannelId: `${channelId}-2`,
      Variable: [`__B24_CALL_ID=${callId}`, 'B24_EXT=101'],
    });
    expect([recorded['Channel'], recorded['Context'], recorded['Exten'], recorded['CallerID']]).toEqual(['Local/101@agents/n', 'outbound', '5559876', 'Click2Call <5559876>']);
    // The card goes out while the agent's phone rings (a second in the recording; the replay below takes none).
    await waitFor(() => telephony(portal!).some((c) => c.method === 'show'), 'the card');

    await pbx!.replay(traceBytes('click_to_call').toString('utf8').replaceAll('c2c-agent-leg-001', channelId));
    await waitFor(() => telephony(portal!).some((c) => c.method === 'finish'), 'the finish');
    const seen = telephony(portal!);
    expect(seen.map((c) => c.method)).toEqual(['show', 'finish']);
    expect(seen[0]!.params).toMatchObject({ CALL_ID: callId, USER_ID: ['11'] });
    // Talk time runs from the customer's answer (6 s), not the agent's (8 s).
    expect(seen[1]!.params).toMatchObject({ CALL_ID: callId, USER_ID: '11', STATUS_CODE: '200', DURATION: '6' });
    expect(portal!.calls.get(callId!)).toMatchObject({ finished: true, finishedBy: 11 });
    expect(portal!.calls.size).toBe(1);
    expect(originates(pbx!)).toHaveLength(1);
  });

  it('finishes the call as 503 when AMI is down and never rings it after the reconnect', async () => {
    const url = await setUp();
    const lost = new Promise((resolve) => bridge!.ami.once('disconnected', resolve));
    pbx!.dropConnections();
    await lost;
    const callId = await portal!.sendEvent(url, 'ONEXTERNALCALLSTART', { USER_ID: 11, PHONE_NUMBER: '5559876' }, { applicationToken: TOKEN });
    expect(portal!.events.at(-1)?.status).toBe(503);
    await waitFor(() => telephony(portal!).some((c) => c.method === 'finish'), 'the finish');
    expect(telephony(portal!).at(-1)!.params).toMatchObject({ CALL_ID: callId, USER_ID: '11', STATUS_CODE: '503' });
    // No card flashed before the finish: the PBX is checked before anything is shown.
    expect(telephony(portal!).map((c) => c.method)).toEqual(['finish']);
    await new Promise((resolve) => bridge!.ami.once('connected', resolve));
    await bridge!.ami.action('Ping');
    await new Promise((r) => setTimeout(r, 200));
    expect(originates(pbx!)).toHaveLength(0);
  });

  it('answers a repeated CALL_ID (a double click) with 409 and rings once', async () => {
    const url = await setUp();
    const first = await portal!.sendEvent(url, 'ONEXTERNALCALLSTART', { USER_ID: 11, PHONE_NUMBER: '5559876' }, { applicationToken: TOKEN });
    // Bitrix24 returns the same unfinished CALL_ID for the same user, number and type (its 30-minute dedup).
    const second = await portal!.sendEvent(url, 'ONEXTERNALCALLSTART', { USER_ID: 11, PHONE_NUMBER: '5559876' }, { applicationToken: TOKEN });
    expect(second).toBe(first);
    expect(portal!.events.map((e) => e.status)).toEqual([200, 409]);
    await bridge!.ami.action('Ping');
    expect(originates(pbx!)).toHaveLength(1);
  });

  it("holds a CALL_ID in the daemon's own endpoint while the call is live (CALL_IN_PROGRESS) and only for the window once the core ended it", async () => {
    await setUp();
    const url = `http://127.0.0.1:${bridge!.endpoint.server.port}/bitrix/events`;
    const callId = await portal!.sendEvent(url, 'ONEXTERNALCALLSTART', { USER_ID: 11, PHONE_NUMBER: '5559876' }, { applicationToken: TOKEN });
    const body = portal!.events.at(-1)!.body;
    const repost = async () => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
      return [res.status, ((await res.json()) as { error?: string }).error];
    };
    const channelId = (await pbx!.waitForAction('Originate', undefined, 15_000))['ChannelId'] as string;
    expect(await repost()).toEqual([409, 'CALL_IN_PROGRESS']);
    await pbx!.replay(traceBytes('click_to_call').toString('utf8').replaceAll('c2c-agent-leg-001', channelId));
    await waitFor(() => telephony(portal!).some((c) => c.method === 'finish' && c.params['CALL_ID'] === callId), 'the finish');
    // The core's callEnded reached the service: the CALL_ID is now only within its dedup window.
    expect(await repost()).toEqual([409, 'DUPLICATE']);
    await bridge!.ami.action('Ping');
    expect(originates(pbx!)).toHaveLength(1);
  });

  it('refuses bad events over the wire with their 4xx and rings nobody', async () => {
    const url = await setUp({ maxBodyBytes: 4096 });
    const send = (data: Record<string, unknown>, token = TOKEN) => portal!.sendEvent(url, 'ONEXTERNALCALLSTART', data, { applicationToken: token });
    await send({ USER_ID: 11, PHONE_NUMBER: '5559876' }, `${TOKEN.slice(0, -1)}X`);
    await send({ USER_ID: 11, PHONE_NUMBER: '5559876\r\nAction: Originate' });
    await send({ USER_ID: 11, PHONE_NUMBER: '5559876&PJSIP/999' });
    await send({ USER_ID: 12, PHONE_NUMBER: '5559876@evil/x' });
    await send({ USER_ID: 11, PHONE_NUMBER: '+1234567890123456789' });
    await send({ USER_ID: 1, PHONE_NUMBER: '5559876' });
    expect(portal!.events.map((e) => e.status)).toEqual([401, 400, 400, 400, 400, 422]);
    const big = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `event=ONEXTERNALCALLSTART&pad=${'x'.repeat(8192)}` });
    expect(big.status).toBe(413);
    expect(await big.json()).toEqual({ error: 'PAYLOAD_TOO_LARGE', message: 'request body exceeds 4096 bytes' });
    const json = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"event":"ONEXTERNALCALLSTART"}' });
    expect(json.status).toBe(415);
    const get = await fetch(url);
    expect(get.status).toBe(405);
    await bridge!.ami.action('Ping');
    expect(originates(pbx!)).toHaveLength(0);
  });

  it('answers 403 to an address outside the allow-list but still serves /healthz locally', async () => {
    const url = await setUp({ allow: ['10.0.0.0/8'] });
    await portal!.sendEvent(url, 'ONEXTERNALCALLSTART', { USER_ID: 11, PHONE_NUMBER: '5559876' }, { applicationToken: TOKEN });
    expect(portal!.events.at(-1)?.status).toBe(403);
    const health = await fetch(url.replace('/bitrix/events', '/healthz'));
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', ami: true, portal: true, outboxDepth: 0 });
    await bridge!.ami.action('Ping');
    expect(originates(pbx!)).toHaveLength(0);
  });
});

describe('callback through the real server', () => {
  it("registers a TYPE 4 call, rings the contact's responsible user, then the customer, and finishes it", async () => {
    const url = await setUp();
    await portal!.sendEvent(url, 'ONEXTERNALCALLBACKSTART', { PHONE_NUMBER: '5559876', CRM_ENTITY_TYPE: 'CONTACT', CRM_ENTITY_ID: 501, TEXT: 'Call me', VOICE: 'ruinternalfemale' }, { applicationToken: TOKEN });
    expect(portal!.events.at(-1)?.status).toBe(200);
    const originate = await pbx!.waitForAction('Originate', undefined, 15_000);
    const channelId = originate['ChannelId'] as string;
    expect(originate).toMatchObject({ Channel: 'Local/102@agents/n', Context: 'outbound', Exten: '5559876', ChannelId: expect.stringMatching(/^cb-/) });
    // The core registered it and the outbox delivered it (in a batch, so the emulator records strings).
    await waitFor(() => portal!.commands.some((c) => c.method === 'telephony.externalcall.register'), 'the register');
    const register = portal!.commands.find((c) => c.method === 'telephony.externalcall.register')!;
    expect(register.params).toMatchObject({ TYPE: '4', USER_ID: '12', PHONE_NUMBER: '5559876', EXTERNAL_CALL_ID: channelId, CRM_ENTITY_TYPE: 'CONTACT', CRM_ENTITY_ID: '501', SHOW: '0' });
    // Bitrix24's CALL_ID did not exist when the Originate left: only the extension is passed on.
    expect(JSON.stringify(originate['Variable'])).toContain('B24_EXT=102');
    expect(JSON.stringify(originate)).not.toContain('B24_CALL_ID');
    const callId = (register.result as { CALL_ID: string }).CALL_ID;
    await waitFor(() => telephony(portal!).some((c) => c.method === 'show'), 'the card');

    await pbx!.replay(traceBytes('click_to_call').toString('utf8').replaceAll('c2c-agent-leg-001', channelId));
    await waitFor(() => telephony(portal!).some((c) => c.method === 'finish'), 'the finish');
    const seen = telephony(portal!);
    expect(seen.map((c) => c.method)).toEqual(['register', 'show', 'finish']);
    expect(seen[1]!.params).toMatchObject({ CALL_ID: callId, USER_ID: ['12'] });
    expect(seen[2]!.params).toMatchObject({ CALL_ID: callId, USER_ID: '12', STATUS_CODE: '200' });
    expect(portal!.calls.get(callId)).toMatchObject({ type: 4, finished: true });
  });

  it("registers through the daemon's own endpoint with the CRM register params (CRM_SOURCE, CRM_CREATE), like inbound calls", async () => {
    await setUp();
    const url = `http://127.0.0.1:${bridge!.endpoint.server.port}/bitrix/events`;
    await portal!.sendEvent(url, 'ONEXTERNALCALLBACKSTART', { PHONE_NUMBER: '5559876', CRM_ENTITY_TYPE: 'CONTACT', CRM_ENTITY_ID: 501 }, { applicationToken: TOKEN });
    expect(portal!.events.at(-1)?.status).toBe(200);
    await waitFor(() => portal!.commands.some((c) => c.method === 'telephony.externalcall.register'), 'the register');
    const register = portal!.commands.find((c) => c.method === 'telephony.externalcall.register')!;
    expect(register.params).toMatchObject({ TYPE: '4', CRM_SOURCE: 'CALL', CRM_CREATE: '1', CRM_ENTITY_TYPE: 'CONTACT', CRM_ENTITY_ID: '501' });
  });
});
