import { describe, expect, it } from 'vitest';
import { channelIdFor, OriginateError, type OriginateRequest, type Originator } from '../../src/clicktocall/originate.js';
import { ClickToCall, type CallbackRegistration, type ClickToCallDeps } from '../../src/clicktocall/service.js';
import { clickToCallSchema } from '../../src/config/http.js';
import type { CoreInput } from '../../src/core/events.js';
import { EXTENSIONS, silent } from './harness.js';

/** The service with a fake originator and a fake clock: order of effects, dedup window, callbacks. */

interface Rig {
  service: ClickToCall;
  log: string[];
  inputs: CoreInput[];
  requests: OriginateRequest[];
  registrations: CallbackRegistration[];
  now: { t: number };
}

function rig(o: { config?: unknown; originate?: (req: OriginateRequest) => Promise<{ actionId?: string }>; deps?: Partial<ClickToCallDeps> } = {}): Rig {
  const log: string[] = [];
  const inputs: CoreInput[] = [];
  const requests: OriginateRequest[] = [];
  const registrations: CallbackRegistration[] = [];
  const now = { t: 1_800_000_000_000 };
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
    registerCallback: async (r) => {
      log.push('register');
      registrations.push(r);
      return 'externalCall.cb0001.1800000000';
    },
    pbxAvailable: () => true,
    clock: () => now.t,
    config: clickToCallSchema.parse(o.config ?? { callback: { queueExten: '600' } }),
    defaultUserId: 1,
    logger: silent,
    ...o.deps,
  });
  return { service, log, inputs, requests, registrations, now };
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

  it('rings a repeated CALL_ID again only after the dedup window', async () => {
    const r = rig({ config: { dedupWindowSec: 30 } });
    expect((await r.service.startCall(call)).ok).toBe(true);
    r.now.t += 29_000;
    expect(await r.service.startCall(call)).toMatchObject({ ok: false, code: 'DUPLICATE' });
    r.now.t += 2_000;
    expect((await r.service.startCall(call)).ok).toBe(true);
    expect(r.requests).toHaveLength(2);
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
  });
});

describe('callbacks (ONEXTERNALCALLBACKSTART)', () => {
  it('registers a TYPE 4 call, then rings the queue, then the customer, under the new CALL_ID', async () => {
    const r = rig({ config: { context: 'c2c-out', callback: { queueExten: '600', queueContext: 'queues', userId: 7, context: 'cb-out' } } });
    const result = await r.service.startCallback({ phoneNumber: '+7 999 000 11 22', crmEntityType: 'CONTACT', crmEntityId: 501, lineNumber: 'line1' });
    expect(result).toMatchObject({ ok: true, callId: 'externalCall.cb0001.1800000000', linkedid: expect.stringMatching(/^cb-/) });
    expect(r.log).toEqual(['register', 'submit clickToCall', 'originate Local/600@queues -> cb-out,79990001122']);
    expect(r.registrations).toEqual([
      { linkedid: r.requests[0]!.channelId, userId: 7, phoneNumber: '+79990001122', lineNumber: 'line1', startedAt: r.now.t, crmEntityType: 'CONTACT', crmEntityId: 501 },
    ]);
    expect(r.inputs[0]).toMatchObject({ kind: 'clickToCall', callId: 'externalCall.cb0001.1800000000', ext: '600', userId: 7 });
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
    expect(r.registrations.map((q) => q.userId)).toEqual([12, 1]);
  });

  it('registers nothing when the PBX is down, and lets a retry through afterwards', async () => {
    let up = false;
    const r = rig({ deps: { pbxAvailable: () => up } });
    expect(await r.service.startCallback({ phoneNumber: '5551001' })).toMatchObject({ ok: false, code: 'PBX_UNAVAILABLE' });
    expect(r.registrations).toEqual([]);
    up = true;
    expect((await r.service.startCallback({ phoneNumber: '5551001' })).ok).toBe(true);
  });

  it('rings nobody when Bitrix24 cannot register the callback', async () => {
    const r = rig({ deps: { registerCallback: () => Promise.reject(new Error('portal down')) } });
    expect(await r.service.startCallback({ phoneNumber: '5551001' })).toMatchObject({ ok: false, code: 'PORTAL_UNAVAILABLE' });
    expect(r.requests).toEqual([]);
    expect(r.inputs).toEqual([]);
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
