import { afterEach, describe, expect, it } from 'vitest';
import type { AmiMessage } from '../../src/ami/types.js';
import { barrier, bodyOf, eventRequest, goodCall, originates, startHarness, TOKEN, type Harness } from './harness.js';

/**
 * The events route called as a plain function (no port), with the AMI simulator over real TCP behind it:
 * a good event gives exactly one Originate, every bad one its 4xx and none.
 */

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('POST /bitrix/events, ONEXTERNALCALLSTART', () => {
  it('rings the agent first with exactly one Originate, after telling the core the Linkedid and CALL_ID', async () => {
    h = await startHarness({ config: { callerId: 'Bitrix24 <{number}>' } });
    const res = await h.route(eventRequest(goodCall));
    expect(res.status).toBe(200);
    const body = bodyOf(res);
    expect(body).toEqual({ ok: true, event: 'ONEXTERNALCALLSTART', callId: goodCall.CALL_ID, linkedid: expect.stringMatching(/^c2c-[0-9a-f]{16}-[0-9a-z]+-[0-9a-z]+$/) });
    await barrier(h);
    const sent = originates(h.pbx);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toEqual({
      Action: 'Originate',
      ActionID: expect.any(String),
      Channel: 'PJSIP/101',
      Context: 'outbound',
      Exten: '79990001122',
      Priority: '1',
      CallerID: 'Bitrix24 <+79990001122>',
      Timeout: '30000',
      Async: 'true',
      Variable: [`__B24_CALL_ID=${goodCall.CALL_ID}`, 'B24_EXT=101'],
      ChannelId: body['linkedid'],
      OtherChannelId: `${body['linkedid'] as string}-2`,
    });
    expect(h.inputs).toEqual([
      { kind: 'clickToCall', at: expect.any(Number), linkedid: body['linkedid'], callId: goodCall.CALL_ID, ext: '101', userId: 11, number: '+79990001122' },
    ]);
    // The core knew the call before the Originate left.
    expect(h.originatesAtSubmit).toEqual([0]);
  });

  it('uses the configured channel template, context and number rules', async () => {
    h = await startHarness({
      config: { agentChannel: 'Local/{ext}@from-internal/n', context: 'c2c-out', number: { countryCode: '7', trunkPrefix: '8', outboundPrefix: '9' } },
    });
    const res = await h.route(eventRequest({ ...goodCall, USER_ID: '12', PHONE_NUMBER: '8 999 000-11-22' }));
    expect(res.status).toBe(200);
    await barrier(h);
    expect(originates(h.pbx)[0]).toMatchObject({ Channel: 'Local/102@from-internal/n', Context: 'c2c-out', Exten: '979990001122', CallerID: '+79990001122' });
  });

  const wrongTokens: Array<[string, string | null]> = [
    ['a wrong token', 'not-the-token'],
    ['a token differing only in the last character', `${TOKEN.slice(0, -1)}f`],
    ['a token one character short', TOKEN.slice(0, -1)],
    ['a token one character longer', `${TOKEN}0`],
    ['an empty token', ''],
    ['no token', null],
  ];

  it.each(wrongTokens)('answers 401 to %s and rings nobody', async (_name, token) => {
    h = await startHarness();
    const res = await h.route(eventRequest(goodCall, { token }));
    expect(res.status).toBe(401);
    expect(bodyOf(res)).toEqual({ error: 'UNAUTHORIZED', message: 'missing or wrong auth[application_token]' });
    await barrier(h);
    expect(originates(h.pbx)).toHaveLength(0);
    expect(h.inputs).toEqual([]);
  });

  const badRequests: Array<[string, Parameters<typeof eventRequest>, number, string]> = [
    ['a disallowed address', [goodCall, { remoteAddress: '203.0.113.5' }], 403, 'FORBIDDEN'],
    ['a JSON body', [goodCall, { contentType: 'application/json', body: JSON.stringify(goodCall) }], 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['text/plain', [goodCall, { contentType: 'text/plain' }], 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['multipart/form-data', [goodCall, { contentType: 'multipart/form-data; boundary=x' }], 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['no content type', [goodCall, { contentType: null }], 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['too many form fields', [goodCall, { body: Array.from({ length: 1001 }, (_, i) => `f${i}=1`).join('&') }], 400, 'BAD_REQUEST'],
    ['an unknown event', [goodCall, { event: 'ONCRMLEADADD' }], 400, 'BAD_REQUEST'],
    ['a missing CALL_ID', [{ ...goodCall, CALL_ID: undefined }], 400, 'BAD_REQUEST'],
    ['a missing USER_ID', [{ ...goodCall, USER_ID: undefined }], 400, 'BAD_REQUEST'],
    ['a USER_ID that is not a number', [{ ...goodCall, USER_ID: '11abc' }], 400, 'BAD_REQUEST'],
    ['a missing PHONE_NUMBER', [{ ...goodCall, PHONE_NUMBER: undefined }], 400, 'BAD_REQUEST'],
    ['a PHONE_NUMBER sent as an array', [{ ...goodCall, PHONE_NUMBER: ['5559876'] }], 400, 'BAD_REQUEST'],
    ['a CALL_ID with CR/LF', [{ ...goodCall, CALL_ID: 'externalCall.x\r\nAction: Hangup' }], 400, 'BAD_REQUEST'],
    ['a user without an extension', [{ ...goodCall, USER_ID: '999' }], 422, 'UNKNOWN_USER'],
    ['a number with CR/LF', [{ ...goodCall, PHONE_NUMBER: '5559876\r\nAction: Originate' }], 400, 'INVALID_NUMBER'],
    ['a number with &', [{ ...goodCall, PHONE_NUMBER: '5559876&PJSIP/666' }], 400, 'INVALID_NUMBER'],
    ['a number with @', [{ ...goodCall, PHONE_NUMBER: '5559876@evil' }], 400, 'INVALID_NUMBER'],
    ['a number with /', [{ ...goodCall, PHONE_NUMBER: 'PJSIP/5559876' }], 400, 'INVALID_NUMBER'],
    ['a number with a comma', [{ ...goodCall, PHONE_NUMBER: '5559876,tT' }], 400, 'INVALID_NUMBER'],
    ['a number with letters', [{ ...goodCall, PHONE_NUMBER: '555CALLME' }], 400, 'INVALID_NUMBER'],
    ['an empty number', [{ ...goodCall, PHONE_NUMBER: '' }], 400, 'INVALID_NUMBER'],
    ['an over-long number', [{ ...goodCall, PHONE_NUMBER: '+12345678901234567' }], 400, 'INVALID_NUMBER'],
  ];

  it.each(badRequests)('refuses %s with %i and rings nobody', async (_name, args, status, code) => {
    h = await startHarness({ allow: ['127.0.0.1', '10.0.0.0/8'] });
    const res = await h.route(eventRequest(...args));
    expect(res.status).toBe(status);
    expect(bodyOf(res)).toMatchObject({ error: code, message: expect.any(String) });
    expect(res.body.toString()).not.toMatch(/Action: |\r|\n/);
    await barrier(h);
    expect(originates(h.pbx)).toHaveLength(0);
    expect(h.inputs).toEqual([]);
  });

  it('rings once for a repeated CALL_ID: 409 CALL_IN_PROGRESS while its call is live, 409 DUPLICATE in the window after', async () => {
    h = await startHarness();
    expect((await h.route(eventRequest(goodCall))).status).toBe(200);
    const again = await h.route(eventRequest(goodCall));
    expect(again.status).toBe(409);
    expect(bodyOf(again)).toMatchObject({ error: 'CALL_IN_PROGRESS' });
    h.service.onCallEnded((h.inputs[0] as { linkedid: string }).linkedid);
    const after = await h.route(eventRequest(goodCall));
    expect([after.status, bodyOf(after)['error']]).toEqual([409, 'DUPLICATE']);
    const [a, b] = await Promise.all([h.route(eventRequest({ ...goodCall, CALL_ID: 'externalCall.b.2' })), h.route(eventRequest({ ...goodCall, CALL_ID: 'externalCall.b.2' }))]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    await barrier(h);
    expect(originates(h.pbx)).toHaveLength(2);
  });

  it('answers 503 while AMI is down, finishes the registered call, and nothing rings after the reconnect', async () => {
    h = await startHarness({ reconnectDelayMs: 400 });
    const lost = new Promise((resolve) => h!.ami.once('disconnected', resolve));
    h.pbx.dropConnections();
    await lost;
    const res = await h.route(eventRequest(goodCall));
    expect(res.status).toBe(503);
    expect(bodyOf(res)).toEqual({ error: 'PBX_UNAVAILABLE', message: 'Asterisk (AMI) is not connected' });
    const linkedid = (h.inputs[0] as { linkedid: string }).linkedid;
    expect(h.inputs).toEqual([
      expect.objectContaining({ kind: 'clickToCall', linkedid, callId: goodCall.CALL_ID, card: false }),
      { kind: 'originateFailed', at: expect.any(Number), linkedid, reason: 8 },
    ]);
    await new Promise((resolve) => h!.ami.once('connected', resolve));
    await barrier(h);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(originates(h.pbx)).toHaveLength(0);
  });

  it('answers 503 when Asterisk does not answer the Originate in time, and sends a Hangup for its ChannelId', async () => {
    // A hung Asterisk: the Originate gets no response at all (it could still run it later).
    h = await startHarness({ actionTimeoutMs: 150, onAction: (a) => (a['Action'] === 'Originate' ? [] : undefined) });
    const res = await h.route(eventRequest(goodCall));
    expect([res.status, bodyOf(res)]).toEqual([503, { error: 'PBX_UNAVAILABLE', message: 'Asterisk (AMI) did not answer the Originate in time' }]);
    const linkedid = originates(h.pbx)[0]!['ChannelId'];
    expect(h.inputs.map((i) => i.kind)).toEqual(['clickToCall', 'originateFailed']);
    await barrier(h);
    const hangups = h.pbx.received.filter((a) => a['Action'] === 'Hangup');
    expect(hangups.map((a) => a['Channel'])).toEqual([linkedid]);
    expect(linkedid).toMatch(/^c2c-/);
  });

  it('answers 502 when Asterisk refuses the Originate and finishes the call', async () => {
    h = await startHarness({
      onAction: (a) => (a['Action'] === 'Originate' ? [{ Response: 'Error', Message: 'Extension does not exist.' }] : undefined),
    });
    const res = await h.route(eventRequest(goodCall));
    expect(res.status).toBe(502);
    expect(bodyOf(res)).toEqual({ error: 'ORIGINATE_FAILED', message: 'Asterisk refused the Originate: Extension does not exist.' });
    expect(h.inputs.map((i) => i.kind)).toEqual(['clickToCall', 'originateFailed']);
  });

  it.each([
    ['with the channel Uniqueid', (id: string) => id],
    ['before any channel existed', () => '<null>'],
  ])('turns an OriginateResponse Failure %s into originateFailed with its Reason', async (_name, uniqueid) => {
    h = await startHarness({
      onAction: (a): AmiMessage[] | undefined =>
        a['Action'] === 'Originate'
          ? [
              { Response: 'Success', Message: 'Originate successfully queued' },
              { Event: 'OriginateResponse', Privilege: 'call,all', ActionID: a['ActionID'] as string, Response: 'Failure', Channel: 'PJSIP/101', Context: 'from-internal', Exten: '79990001122', Reason: '5', Uniqueid: uniqueid(a['ChannelId'] as string), CallerIDNum: '<unknown>', CallerIDName: '<unknown>' },
            ]
          : undefined,
    });
    const res = await h.route(eventRequest(goodCall));
    expect(res.status).toBe(200);
    await barrier(h);
    const linkedid = bodyOf(res)['linkedid'];
    expect(h.inputs).toEqual([expect.objectContaining({ kind: 'clickToCall', linkedid }), { kind: 'originateFailed', at: expect.any(Number), linkedid, reason: 5 }]);
  });

  it('ignores a successful OriginateResponse and OriginateResponses of other clients', async () => {
    h = await startHarness();
    expect((await h.route(eventRequest(goodCall))).status).toBe(200);
    h.pbx.emitEvent({ Event: 'OriginateResponse', ActionID: 'someone-else-1', Response: 'Failure', Reason: '0', Uniqueid: 'x.1' });
    await barrier(h);
    expect(h.inputs.map((i) => i.kind)).toEqual(['clickToCall']);
  });

  it('never writes the token, given or expected, or the raw number to a log line', async () => {
    const lines: string[] = [];
    const sink = (level: string) => (obj: object, msg: string) => lines.push(`${level} ${msg} ${JSON.stringify(obj)}`);
    h = await startHarness({ logger: { debug: sink('debug'), info: sink('info'), warn: sink('warn'), error: sink('error') } });
    await h.route(eventRequest(goodCall, { token: 'guessed-token-123' }));
    await h.route(eventRequest({ ...goodCall, PHONE_NUMBER: '555\r\nAction: Originate' }));
    await h.route(eventRequest(goodCall));
    expect(lines.length).toBeGreaterThan(1);
    const all = lines.join('\n');
    expect(all).not.toContain(TOKEN);
    expect(all).not.toContain('guessed-token-123');
    expect(all).not.toContain('Action: Originate');
  });
});
