import { describe, expect, it } from 'vitest';
import { ENDED_RINGS_LIMIT } from '../../src/core/cards.js';
import type { ChannelSnapshot, CoreInput } from '../../src/core/events.js';
import { TRACE_USERS, traceTracker } from '../support/traces.js';

/** Hand-built events for what the traces do not record (field names as in the Asterisk 22 traces). */
function chan(uniqueid: string, linkedid: string, name: string, context: string, exten = '', callerIdNum = ''): ChannelSnapshot {
  return { uniqueid, linkedid, name, context, exten, callerIdNum, callerIdName: '' };
}

function run(inputs: CoreInput[], tracker = traceTracker()) {
  return inputs.flatMap((i) => tracker.handle(i));
}

const trunk = chan('t.1', 't.1', 'PJSIP/trunk-00000001', 'from-trunk', '74951230000', '79990001122');
const phone101 = chan('t.2', 't.1', 'PJSIP/101-00000002', 'from-internal', '101');
const phone102 = chan('t.3', 't.1', 'PJSIP/102-00000003', 'from-internal', '102');

describe('the call tracker on hand-built events', () => {
  it('reads the DID of a PJSIP trunk call as LINE_NUMBER and the caller ID as the number', () => {
    const effects = run([
      { kind: 'channel', at: 1000, channel: trunk },
      { kind: 'dialBegin', at: 1100, caller: trunk, dest: phone101 },
    ]);
    expect(effects[0]).toMatchObject({ type: 'register', phoneNumber: '79990001122', lineNumber: '74951230000', callType: 2, userId: 11 });
    expect(effects[1]).toEqual({ type: 'show', linkedid: 't.1', userIds: [11] });
  });

  it('finishes a direct dial that the agent rejected as 603 and one the agent was busy on as 486', () => {
    // Real order: app_dial publishes the leg's DialEnd (ast_hangup_cause_to_dial_status: cause 21 gives NOANSWER)
    // before it hangs the leg up, so only the Hangup's Cause 21 (SIP 603 Decline) tells a rejection apart.
    const rejected = run([
      { kind: 'channel', at: 1000, channel: trunk },
      { kind: 'dialBegin', at: 1100, caller: trunk, dest: phone101 },
      { kind: 'dialEnd', at: 2000, caller: trunk, dest: phone101, status: 'NOANSWER' },
      { kind: 'hangup', at: 2000, channel: phone101, cause: 21 },
      { kind: 'hangup', at: 2100, channel: trunk, cause: 21 },
    ]);
    expect(rejected.map((e) => e.type)).toEqual(['register', 'show', 'hide', 'finish', 'callEnded']);
    expect(rejected.find((e) => e.type === 'finish')).toEqual({ type: 'finish', linkedid: 't.1', userId: 1, durationSec: 0, status: '603' });
    const busy = run([
      { kind: 'channel', at: 1000, channel: trunk },
      { kind: 'dialBegin', at: 1100, caller: trunk, dest: phone101 },
      { kind: 'dialEnd', at: 1200, caller: trunk, dest: phone101, status: 'BUSY' },
      { kind: 'hangup', at: 1300, channel: phone101, cause: 17 },
      { kind: 'hangup', at: 1400, channel: trunk, cause: 17 },
    ]);
    expect(busy.find((e) => e.type === 'finish')).toMatchObject({ status: '486', userId: 1 });
  });

  it('reports the last agent leg of a direct dial: rejected by 101, then 102 not answering, is missed', () => {
    const effects = run([
      { kind: 'channel', at: 1000, channel: trunk },
      { kind: 'dialBegin', at: 1100, caller: trunk, dest: phone101 },
      { kind: 'dialEnd', at: 2000, caller: trunk, dest: phone101, status: 'NOANSWER' },
      { kind: 'hangup', at: 2000, channel: phone101, cause: 21 },
      { kind: 'dialBegin', at: 2100, caller: trunk, dest: phone102 },
      { kind: 'dialEnd', at: 9000, caller: trunk, dest: phone102, status: 'NOANSWER' },
      { kind: 'hangup', at: 9000, channel: phone102, cause: 16 },
      { kind: 'hangup', at: 9100, channel: trunk, cause: 16 },
    ]);
    expect(effects.find((e) => e.type === 'finish')).toMatchObject({ status: '304', userId: 1 });
  });

  it('forgets a ring leg once its Hangup came, and bounds the legs still waiting for one', () => {
    const tracker = traceTracker();
    run(
      [
        { kind: 'channel', at: 1000, channel: trunk },
        { kind: 'dialBegin', at: 1100, caller: trunk, dest: phone101 },
        { kind: 'dialEnd', at: 2000, caller: trunk, dest: phone101, status: 'NOANSWER' },
      ],
      tracker,
    );
    expect(tracker.exportState().calls[0]!.endedRings).toEqual([['t.2', { ext: '101', userId: 11 }]]);
    run([{ kind: 'hangup', at: 2000, channel: phone101, cause: 21 }], tracker);
    expect(tracker.exportState().calls[0]!.endedRings).toEqual([]);
    // Legs whose Hangup never comes (a lost event) cannot grow a long call without bound.
    for (let i = 0; i < ENDED_RINGS_LIMIT + 5; i++) {
      const leg = chan(`b.${i}`, 't.1', `PJSIP/101-1${i}`, 'from-internal', '101');
      run(
        [
          { kind: 'dialBegin', at: 3000 + i, caller: trunk, dest: leg },
          { kind: 'dialEnd', at: 3000 + i, caller: trunk, dest: leg, status: 'NOANSWER' },
        ],
        tracker,
      );
    }
    const kept = tracker.exportState().calls[0]!.endedRings!.map(([id]) => id);
    expect(kept).toHaveLength(ENDED_RINGS_LIMIT);
    expect(kept.at(-1)).toBe(`b.${ENDED_RINGS_LIMIT + 4}`);
  });

  it('never registers an internal extension-to-extension call', () => {
    const a = chan('i.1', 'i.1', 'PJSIP/101-00000010', 'from-internal', '102');
    const b = chan('i.2', 'i.1', 'PJSIP/102-00000011', 'from-internal', '102');
    const effects = run([
      { kind: 'channel', at: 0, channel: a },
      { kind: 'dialBegin', at: 10, caller: a, dest: b },
      { kind: 'dialEnd', at: 20, caller: a, dest: b, status: 'ANSWER' },
      { kind: 'hangup', at: 30, channel: b, cause: 16 },
      { kind: 'hangup', at: 40, channel: a, cause: 16 },
    ]);
    expect(effects).toEqual([]);
  });

  it('gives an outbound call the busy status of the customer leg', () => {
    const agent = chan('o.1', 'o.1', 'PJSIP/101-00000020', 'from-internal', '84951112233');
    const agentOut = { ...agent, context: 'from-internal-outbound' };
    const cust = chan('o.2', 'o.1', 'PJSIP/trunk-00000021', 'from-trunk-out');
    const effects = run([
      { kind: 'channel', at: 0, channel: agent },
      { kind: 'channel', at: 5, channel: agentOut },
      { kind: 'dialBegin', at: 10, caller: agentOut, dest: cust },
      { kind: 'dialEnd', at: 500, caller: agentOut, dest: cust, status: 'BUSY' },
      { kind: 'hangup', at: 600, channel: cust, cause: 17 },
      { kind: 'hangup', at: 700, channel: agentOut, cause: 17 },
    ]);
    expect(effects.map((e) => e.type)).toEqual(['register', 'show', 'finish', 'callEnded']);
    expect(effects[0]).toMatchObject({ callType: 1, userId: 11, phoneNumber: '84951112233', crmCreate: false });
    expect(effects[2]).toMatchObject({ status: '486', userId: 11, durationSec: 0 });
  });

  it('follows an attended transfer: the target becomes the last agent when it joins the customer bridge', () => {
    // 101 talks to the customer (call t.1), consults 102 on a second call (c.1), then completes: 102 is
    // bridged with the customer and Asterisk rewrites its Linkedid to the older one.
    const consult101 = chan('c.1', 'c.1', 'PJSIP/101-00000030', 'from-internal', '102');
    const consult102 = chan('c.2', 'c.1', 'PJSIP/102-00000031', 'from-internal', '102');
    const effects = run([
      { kind: 'channel', at: 0, channel: trunk },
      { kind: 'dialBegin', at: 100, caller: trunk, dest: phone101 },
      { kind: 'dialEnd', at: 1000, caller: trunk, dest: phone101, status: 'ANSWER' },
      { kind: 'bridgeEnter', at: 1000, bridgeId: 'b1', channel: phone101 },
      { kind: 'bridgeEnter', at: 1000, bridgeId: 'b1', channel: trunk },
      { kind: 'channel', at: 5000, channel: consult101 },
      { kind: 'dialBegin', at: 5000, caller: consult101, dest: consult102 },
      { kind: 'dialEnd', at: 6000, caller: consult101, dest: consult102, status: 'ANSWER' },
      { kind: 'transfer', at: 9000, type: 'attended', ok: true, transferer: phone101, target: 'PJSIP/102-00000031' },
      { kind: 'bridgeLeave', at: 9000, bridgeId: 'b1', channel: phone101 },
      { kind: 'hangup', at: 9001, channel: phone101, cause: 16 },
      { kind: 'bridgeEnter', at: 9002, bridgeId: 'b1', channel: { ...consult102, linkedid: 't.1' } },
      { kind: 'hangup', at: 9003, channel: consult101, cause: 16 },
      { kind: 'hangup', at: 21_000, channel: { ...consult102, linkedid: 't.1' }, cause: 16 },
      { kind: 'hangup', at: 21_001, channel: trunk, cause: 16 },
    ]);
    const finish = effects.filter((e) => e.type === 'finish');
    expect(finish).toEqual([{ type: 'finish', linkedid: 't.1', userId: 12, durationSec: 20, status: '200' }]);
    // 102 sees the customer's card while the consultation rings; 101's closes when 102 takes the customer.
    expect(effects.filter((e) => e.type === 'show' || e.type === 'hide')).toEqual([
      { type: 'show', linkedid: 't.1', userIds: [11] },
      { type: 'show', linkedid: 't.1', userIds: [12] },
      { type: 'hide', linkedid: 't.1', userIds: [11] },
    ]);
    expect(effects.filter((e) => e.type === 'register')).toHaveLength(1);
  });

  it('reports an unmapped extension once and shows no card for it', () => {
    const tracker = traceTracker();
    const phone555 = chan('u.2', 't.1', 'PJSIP/555-00000040', 'from-internal', '555');
    const phone555b = chan('u.3', 't.1', 'PJSIP/555-00000041', 'from-internal', '555');
    const effects = run(
      [
        { kind: 'channel', at: 0, channel: trunk },
        { kind: 'dialBegin', at: 10, caller: trunk, dest: phone555 },
        { kind: 'dialEnd', at: 20, caller: trunk, dest: phone555, status: 'NOANSWER' },
        { kind: 'dialBegin', at: 30, caller: trunk, dest: phone555b },
      ],
      tracker,
    );
    expect(effects).toEqual([{ type: 'unmappedExtension', ext: '555' }]);
  });

  it('reports a still unmapped extension again after the user map changed, and a mapped one never', () => {
    const tracker = traceTracker();
    const phone555 = chan('u.2', 't.1', 'PJSIP/555-00000040', 'from-internal', '555');
    const phone555b = chan('u.3', 't.1', 'PJSIP/555-00000041', 'from-internal', '555');
    const ring = (leg: ChannelSnapshot, at: number): CoreInput[] => [
      { kind: 'dialBegin', at, caller: trunk, dest: leg },
      { kind: 'dialEnd', at: at + 5, caller: trunk, dest: leg, status: 'NOANSWER' },
    ];
    expect(run([{ kind: 'channel', at: 0, channel: trunk }, ...ring(phone555, 10)], tracker)).toEqual([{ type: 'unmappedExtension', ext: '555' }]);
    expect(run(ring(phone555b, 20), tracker)).toEqual([]);
    run([{ kind: 'userMap', at: 25, extensions: TRACE_USERS }], tracker);
    expect(run(ring(chan('u.4', 't.1', 'PJSIP/555-00000042', 'from-internal', '555'), 30), tracker)).toEqual([{ type: 'unmappedExtension', ext: '555' }]);
    expect(run(ring(chan('u.5', 't.1', 'PJSIP/555-00000043', 'from-internal', '555'), 40), tracker)).toEqual([]);
    run([{ kind: 'userMap', at: 45, extensions: TRACE_USERS }], tracker);
    expect(run(ring(phone102, 50), tracker).filter((e) => e.type === 'unmappedExtension')).toEqual([]);
  });

  it('ignores late events of a finished call instead of starting it again', () => {
    const tracker = traceTracker();
    run(
      [
        { kind: 'channel', at: 0, channel: trunk },
        { kind: 'hangup', at: 100, channel: trunk, cause: 16 },
      ],
      tracker,
    );
    expect(run([{ kind: 'channel', at: 200, channel: trunk }], tracker)).toEqual([]);
    expect(tracker.activeCalls).toBe(0);
  });

  it('reuses the CALL_ID of a click-to-call and never registers it', () => {
    const agent = chan('c2c-1', 'c2c-1', 'PJSIP/101-00000050', 'from-internal', '101');
    const effects = run([
      { kind: 'clickToCall', at: 0, linkedid: 'c2c-1', callId: 'externalCall.abc.1', ext: '101', userId: 11, number: '79990001122' },
      { kind: 'channel', at: 5, channel: agent },
      { kind: 'dialEnd', at: 9000, dest: agent, status: 'NOANSWER' },
      { kind: 'hangup', at: 9001, channel: agent, cause: 19 },
    ]);
    expect(effects.map((e) => e.type)).toEqual(['bindCallId', 'show', 'finish', 'callEnded']);
    expect(effects[2]).toMatchObject({ userId: 11, status: '304' });
  });

  it('finishes a click-to-call whose originate failed before any channel existed', () => {
    const effects = run([
      { kind: 'clickToCall', at: 0, linkedid: 'c2c-2', callId: 'externalCall.def.1', ext: '101', userId: 11, number: '79990001122' },
      { kind: 'originateFailed', at: 30, linkedid: 'c2c-2', reason: 5 },
    ]);
    expect(effects.find((e) => e.type === 'finish')).toMatchObject({ status: '486', userId: 11 });
  });
});
