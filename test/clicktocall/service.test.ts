import { describe, expect, it } from 'vitest';
import { hangup, serializeAction } from '../../src/ami/actions.js';
import { AmiActionError } from '../../src/ami/client.js';
import { channelIdFor, OriginateError, type OriginateRequest, type Originator } from '../../src/clicktocall/originate.js';
import { ClickToCall, type ClickToCallDeps } from '../../src/clicktocall/service.js';
import { clickToCallSchema } from '../../src/config/http.js';
import type { CoreInput } from '../../src/core/events.js';
import { EXTENSIONS, silent } from './harness.js';

/** The service with a fake originator and a fake clock: order of effects, dedup window, callbacks. */

interface Rig {
  service: ClickToCall;
  log: string[];
  inputs: CoreInput[];
  requests: OriginateRequest[];
  hangups: string[];
  now: { t: number };
  /** Moves the fake clock and fires the timers that are due. */
  advance(ms: number): void;
}

function rig(o: { config?: unknown; originate?: (req: OriginateRequest) => Promise<{ actionId?: string }>; deps?: Partial<ClickToCallDeps> } = {}): Rig {
  const log: string[] = [];
  const inputs: CoreInput[] = [];
  const requests: OriginateRequest[] = [];
  const hangups: string[] = [];
  const now = { t: 1_800_000_000_000 };
  const timers = new Map<number, { at: number; fn: () => void }>();
  let nextTimer = 0;
  const originator: Originator = {
    originate: (req) => {
      log.push(`originate ${req.channel} -> ${req.context},${req.exten}`);
      requests.push(req);
      return o.originate ? o.originate(req) : Promise.resolve({ actionId: `act-${requests.length}` });
    },
  };
  const service = new ClickToCall({
    originator,
    userExtension: (id) => EXTENSIONS[id],
    submit: (input) => {
      log.push(`submit ${input.kind}`);
      inputs.push(input);
    },
    pbxAvailable: () => true,
    hangup: async (channel) => {
      log.push(`hangup ${channel}`);
      hangups.push(channel);
    },
    timers: {
      setTimeout: (fn, ms) => {
        timers.set(++nextTimer, { at: now.t + ms, fn });
        return nextTimer;
      },
      clearTimeout: (h) => void timers.delete(h as number),
    },
    clock: () => now.t,
    config: clickToCallSchema.parse(o.config ?? { callback: { queueExten: '600' } }),
    defaultUserId: 1,
    logger: silent,
    ...o.deps,
  });
  const advance = (ms: number): void => {
    now.t += ms;
    for (const [id, t] of [...timers]) {
      if (t.at > now.t || !timers.has(id)) continue;
      timers.delete(id);
      t.fn();
    }
  };
  return { service, log, inputs, requests, hangups, now, advance };
}

const call = { callId: 'externalCall.abc.1', userId: 11, phoneNumber: '5559876' };

describe('click-to-call service', () => {
  it('tells the core about the call before it asks Asterisk to ring', async () => {
    const r = rig();
    expect(await r.service.startCall(call)).toMatchObject({ ok: true, callId: call.callId });
    expect(r.log).toEqual(['submit clickToCall', 'originate PJSIP/101 -> outbound,5559876']);
  });

  it('makes ChannelIds that are unique, short and safe for Asterisk', () => {
    const ids = new Set<string>();
    for (let n = 1; n <= 1000; n++) ids.add(channelIdFor('c2c', 'externalCall.same.1', 1_800_000_000_000, n));
    expect(ids.size).toBe(1000);
    for (const id of ids) {
      expect(id.length).toBeLessThanOrEqual(149);
      expect(id).toMatch(/^c2c-[0-9a-f]{16}-[0-9a-z]+-[0-9a-z]+$/);
    }
  });

  it('rings a repeated CALL_ID again only after the dedup window that starts when its call ended', async () => {
    const r = rig({ config: { dedupWindowSec: 30 } });
    expect((await r.service.startCall(call)).ok).toBe(true);
    r.service.onCallEnded(r.requests[0]!.channelId);
    r.now.t += 29_000;
    expect(await r.service.startCall(call)).toMatchObject({ ok: false, code: 'DUPLICATE' });
    r.now.t += 2_000;
    expect((await r.service.startCall(call)).ok).toBe(true);
    expect(r.requests).toHaveLength(2);
  });

  it('refuses the same CALL_ID with CALL_IN_PROGRESS (409) for as long as its call is live, past the window', async () => {
    const r = rig({ config: { dedupWindowSec: 30 } });
    expect((await r.service.startCall(call)).ok).toBe(true);
    r.service.onAmiEvent({ Event: 'OriginateResponse', ActionID: 'act-1', Response: 'Success', Reason: '4', Uniqueid: r.requests[0]!.channelId });
    for (const after of [31_000, 10 * 60_000, 29 * 60_000]) {
      r.now.t += after;
      expect(await r.service.startCall(call)).toEqual({ ok: false, code: 'CALL_IN_PROGRESS', message: 'this CALL_ID is a call still in progress' });
    }
    // Another call's end changes nothing; this call's end starts the window.
    r.service.onCallEnded('c2c-someone-else');
    expect(await r.service.startCall(call)).toMatchObject({ code: 'CALL_IN_PROGRESS' });
    r.service.onCallEnded(r.requests[0]!.channelId);
    expect(await r.service.startCall(call)).toMatchObject({ code: 'DUPLICATE' });
    r.now.t += 30_000;
    expect((await r.service.startCall(call)).ok).toBe(true);
    expect(r.requests).toHaveLength(2);
  });

  it('finishes as 503 without a card and without an Originate when Asterisk is not connected', async () => {
    const r = rig({ deps: { pbxAvailable: () => false } });
    expect(await r.service.startCall(call)).toEqual({ ok: false, code: 'PBX_UNAVAILABLE', message: 'Asterisk (AMI) is not connected' });
    expect(r.requests).toEqual([]);
    expect(r.inputs).toEqual([
      { kind: 'clickToCall', at: r.now.t, linkedid: expect.stringMatching(/^c2c-/), callId: call.callId, ext: '101', userId: 11, number: '5559876', card: false },
      { kind: 'originateFailed', at: r.now.t, linkedid: (r.inputs[0] as { linkedid: string }).linkedid, reason: 8 },
    ]);
  });

  it('matches an OriginateResponse Failure that arrives before the Originate promise settles', async () => {
    let service: ClickToCall | undefined;
    const r = rig({
      originate: async () => {
        // Same TCP chunk as the Response: the event is emitted before our await resumes.
        service!.onAmiEvent({ Event: 'OriginateResponse', ActionID: 'early-1', Response: 'Failure', Reason: '3', Uniqueid: '<null>', Timestamp: '1800000005.500000' });
        return { actionId: 'early-1' };
      },
    });
    service = r.service;
    await r.service.startCall(call);
    expect(r.inputs[1]).toEqual({ kind: 'originateFailed', at: 1_800_000_005_500, linkedid: r.requests[0]!.channelId, reason: 3 });
  });

  it('reports PBX_UNAVAILABLE and finishes the call when the originator cannot reach Asterisk', async () => {
    const r = rig({ originate: () => Promise.reject(new OriginateError('PBX_UNAVAILABLE', 'Asterisk (AMI) is not connected')) });
    expect(await r.service.startCall(call)).toEqual({ ok: false, code: 'PBX_UNAVAILABLE', message: 'Asterisk (AMI) is not connected' });
    expect(r.inputs.map((i) => i.kind)).toEqual(['clickToCall', 'originateFailed']);
    expect(r.hangups).toEqual([]);
  });
});

describe('an Originate whose outcome never comes', () => {
  const RING = 30_000;

  it('finishes the call as 480 once the ring time and the margin passed with no OriginateResponse and no channel', async () => {
    const r = rig();
    await r.service.startCall(call);
    const linkedid = r.requests[0]!.channelId;
    r.advance(RING + 29_999);
    expect(r.inputs.map((i) => i.kind)).toEqual(['clickToCall']);
    r.advance(1);
    expect(r.inputs[1]).toEqual({ kind: 'originateFailed', at: r.now.t, linkedid, reason: 0 });
    r.advance(10 * 60_000);
    expect(r.inputs).toHaveLength(2);
  });

  it('waits while AMI is disconnected (the events may only be lost), and judges once it is back', async () => {
    let up = true;
    const r = rig({ deps: { pbxAvailable: () => up } });
    await r.service.startCall(call);
    up = false;
    r.advance(RING + 30_000);
    r.advance(5 * 60_000);
    expect(r.inputs.map((i) => i.kind)).toEqual(['clickToCall']);
    up = true;
    r.advance(30_000);
    expect(r.inputs.map((i) => i.kind)).toEqual(['clickToCall', 'originateFailed']);
  });

  it('leaves the call to the core once any channel of it was seen, or its OriginateResponse came, or it ended', async () => {
    const r = rig();
    await r.service.startCall(call);
    await r.service.startCall({ ...call, callId: 'externalCall.def.2' });
    await r.service.startCall({ ...call, callId: 'externalCall.ghi.3' });
    const [a, b, c] = r.requests.map((q) => q.channelId);
    r.service.onAmiEvent({ Event: 'Newchannel', Channel: 'Local/101@agents-00000001;2', Uniqueid: `${a}-2`, Linkedid: a! });
    r.service.onAmiEvent({ Event: 'OriginateResponse', ActionID: 'act-2', Response: 'Success', Reason: '4', Uniqueid: b! });
    r.service.onCallEnded(c!);
    r.advance(RING + 60_000);
    expect(r.inputs.filter((i) => i.kind === 'originateFailed')).toEqual([]);
  });

  it('hangs up the ChannelId of an Originate that timed out, finishes as 503, and hangs it up again if it starts late', async () => {
    const r = rig({ originate: () => Promise.reject(new OriginateError('PBX_UNAVAILABLE', 'Asterisk (AMI) did not answer the Originate in time', true)) });
    expect(await r.service.startCall(call)).toMatchObject({ ok: false, code: 'PBX_UNAVAILABLE' });
    const linkedid = r.requests[0]!.channelId;
    expect(r.hangups).toEqual([linkedid]);
    expect(r.inputs[1]).toEqual({ kind: 'originateFailed', at: r.now.t, linkedid, reason: 8 });
    // The core ends the call; the late start is still watched.
    r.service.onCallEnded(linkedid);
    r.advance(2 * 60_000);
    r.service.onAmiEvent({ Event: 'Newchannel', Channel: 'PJSIP/101-00000007', Uniqueid: linkedid, Linkedid: linkedid });
    r.service.onAmiEvent({ Event: 'Newstate', Channel: 'PJSIP/101-00000007', Uniqueid: linkedid, Linkedid: linkedid });
    await Promise.resolve();
    expect(r.hangups).toEqual([linkedid, linkedid]);
    expect(r.inputs).toHaveLength(2);
  });
});

describe('callbacks (ONEXTERNALCALLBACKSTART)', () => {
  it('hands the core a call to register (TYPE 4, bound to the form’s entity), then rings the queue, then the customer', async () => {
    const r = rig({ config: { context: 'c2c-out', callback: { queueExten: '600', queueContext: 'queues', userId: 7, context: 'cb-out' } } });
    const result = await r.service.startCallback({ phoneNumber: '+7 999 000 11 22', crmEntityType: 'CONTACT', crmEntityId: 501, lineNumber: 'line1' });
    expect(result).toEqual({ ok: true, linkedid: expect.stringMatching(/^cb-/) });
    // Nothing waits for the portal: the core registers the call and the outbox delivers the register.
    expect(r.log).toEqual(['submit clickToCall', 'originate Local/600@queues -> cb-out,79990001122']);
    expect(r.inputs).toEqual([
      {
        kind: 'clickToCall',
        at: r.now.t,
        linkedid: r.requests[0]!.channelId,
        ext: '600',
        userId: 7,
        number: '+79990001122',
        lineNumber: 'line1',
        crmEntity: { type: 'CONTACT', id: 501 },
      },
    ]);
    // Bitrix24's CALL_ID is not known yet: the channels carry the extension only.
    expect(r.requests[0]!.variables).toEqual({ B24_EXT: '600' });
  });

  it("rings the CRM entity's responsible user when configured, and the queue when that user has no extension", async () => {
    const owners: Record<number, number> = { 501: 12, 502: 99 };
    const r = rig({
      config: { callback: { target: 'responsible', queueExten: '600' } },
      deps: { responsibleFor: async (_type, id) => owners[id] },
    });
    await r.service.startCallback({ phoneNumber: '5551001', crmEntityType: 'CONTACT', crmEntityId: 501 });
    await r.service.startCallback({ phoneNumber: '5551002', crmEntityType: 'CONTACT', crmEntityId: 502 });
    expect(r.requests.map((q) => q.channel)).toEqual(['PJSIP/102', 'Local/600@from-internal']);
    expect(r.inputs.map((i) => (i.kind === 'clickToCall' ? i.userId : undefined))).toEqual([12, 1]);
  });

  it('tells the core nothing when the PBX is down, and lets a retry through afterwards', async () => {
    let up = false;
    const r = rig({ deps: { pbxAvailable: () => up } });
    expect(await r.service.startCallback({ phoneNumber: '5551001' })).toMatchObject({ ok: false, code: 'PBX_UNAVAILABLE' });
    expect(r.inputs).toEqual([]);
    up = true;
    expect((await r.service.startCallback({ phoneNumber: '5551001' })).ok).toBe(true);
    expect(r.inputs).toHaveLength(1);
  });

  it('has the core finish the callback as failed when Asterisk refuses the Originate', async () => {
    const r = rig({ originate: () => Promise.reject(new OriginateError('ORIGINATE_FAILED', 'no such channel')) });
    expect(await r.service.startCallback({ phoneNumber: '5551001' })).toMatchObject({ ok: false, code: 'ORIGINATE_FAILED' });
    expect(r.inputs.map((i) => i.kind)).toEqual(['clickToCall', 'originateFailed']);
  });

  it('is NOT_CONFIGURED without a callback section, and refuses bad numbers and repeats', async () => {
    expect(await rig({ config: {} }).service.startCallback({ phoneNumber: '5551001' })).toMatchObject({ ok: false, code: 'NOT_CONFIGURED' });
    const r = rig();
    expect(await r.service.startCallback({ phoneNumber: '555\r\n1001' })).toMatchObject({ ok: false, code: 'INVALID_NUMBER' });
    expect((await r.service.startCallback({ phoneNumber: '5551001' })).ok).toBe(true);
    expect(await r.service.startCallback({ phoneNumber: '555-10-01' })).toMatchObject({ ok: false, code: 'DUPLICATE' });
    expect(r.requests).toHaveLength(1);
  });
});

describe('the Hangup sent for a timed-out Originate', () => {
  it('names one exact channel: a regular expression, an empty name or CR/LF is refused before anything is sent', () => {
    expect(hangup({ channel: 'c2c-0123456789abcdef-x-1' })).toEqual({ action: 'Hangup', headers: { Channel: 'c2c-0123456789abcdef-x-1', Cause: undefined } });
    for (const channel of ['/PJSIP\\/.*/', '']) expect(() => hangup({ channel })).toThrow(AmiActionError);
    const injected = hangup({ channel: 'c2c-1\r\nAction: Originate' });
    expect(() => serializeAction(injected.action, injected.headers, 'id-1')).toThrow(/CR, LF or NUL/);
  });
});
