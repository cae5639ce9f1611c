import { describe, expect, it } from 'vitest';
import type { ChannelSnapshot, CoreInput } from '../../src/core/events.js';
import type { Effect } from '../../src/core/effects.js';
import { normalize } from '../../src/core/normalize.js';
import { traceMessages, traceTracker } from '../support/traces.js';

/**
 * What the click-to-call service relies on from the core (src/core/tracker.ts), input by input. The two rows
 * marked "core bug" were once wrong in the core (it counted the agent answering the originated leg as the call
 * being answered: a busy customer became 200, talk time included the customer's ringing); they now pass and
 * guard that fix.
 */

const chan = (uniqueid: string, name: string, context: string, exten: string): ChannelSnapshot => ({
  uniqueid,
  linkedid: 'c2c-1',
  name,
  context,
  exten,
  callerIdNum: '',
  callerIdName: '',
});
const agent = chan('c2c-1', 'PJSIP/101-00000001', 'from-internal', '101');
const agentOut = { ...agent, context: 'outbound', exten: '5559876' };
const customer = chan('c2c-1.2', 'PJSIP/trunk-00000002', 'outbound', '5559876');
const start: CoreInput = { kind: 'clickToCall', at: 0, linkedid: 'c2c-1', callId: 'externalCall.x.1', ext: '101', userId: 11, number: '5559876' };

function run(inputs: CoreInput[]): Effect[] {
  const tracker = traceTracker();
  return inputs.flatMap((i) => tracker.handle(i));
}

const finishOf = (effects: Effect[]) => effects.find((e) => e.type === 'finish');

function agentAnswersThenCustomer(status: string): CoreInput[] {
  return [
    start,
    { kind: 'channel', at: 1, channel: agent },
    { kind: 'dialBegin', at: 2, dest: agent },
    { kind: 'dialEnd', at: 1000, dest: agent, status: 'ANSWER' },
    { kind: 'dialBegin', at: 1001, caller: agentOut, dest: customer },
    { kind: 'dialEnd', at: 9000, caller: agentOut, dest: customer, status },
    { kind: 'hangup', at: 9001, channel: customer, cause: 17 },
    { kind: 'hangup', at: 9002, channel: agentOut, cause: 16 },
  ];
}

describe('the core, for click-to-call', () => {
  it('shows the card to the clicking user and never registers the call', () => {
    const effects = run([start]);
    expect(effects).toEqual([
      { type: 'bindCallId', linkedid: 'c2c-1', callId: 'externalCall.x.1' },
      { type: 'show', linkedid: 'c2c-1', userIds: [11] },
    ]);
  });

  it('finishes as 503 without ever showing a card when told not to (PBX down before the originate)', () => {
    const effects = run([{ ...start, card: false }, { kind: 'originateFailed', at: 5, linkedid: 'c2c-1', reason: 8 }]);
    expect(effects.filter((e) => e.type !== 'callEnded')).toEqual([
      { type: 'bindCallId', linkedid: 'c2c-1', callId: 'externalCall.x.1' },
      { type: 'finish', linkedid: 'c2c-1', userId: 11, durationSec: 0, status: '503' },
    ]);
  });

  it('finishes as 480 when the watchdog reports a lost OriginateResponse (reason 0) and no channel was seen', () => {
    expect(finishOf(run([start, { kind: 'originateFailed', at: 60_000, linkedid: 'c2c-1', reason: 0 }]))).toMatchObject({ status: '480', userId: 11 });
  });

  it('finishes as 503 when the originate failed before any channel existed (PBX down: reason 8)', () => {
    expect(finishOf(run([start, { kind: 'originateFailed', at: 5, linkedid: 'c2c-1', reason: 8 }]))).toMatchObject({ status: '503', userId: 11 });
  });

  it.each([
    ['NOANSWER', '304'],
    ['BUSY', '486'],
  ])('finishes as the agent leg ended when the agent does not pick up (%s -> %s)', (status, code) => {
    const effects = run([
      start,
      { kind: 'channel', at: 1, channel: agent },
      { kind: 'dialBegin', at: 2, dest: agent },
      { kind: 'dialEnd', at: 30_000, dest: agent, status },
      { kind: 'hangup', at: 30_001, channel: agent, cause: 19 },
    ]);
    expect(finishOf(effects)).toMatchObject({ status: code, userId: 11, durationSec: 0 });
  });

  it('finishes as 200 when the customer answers', () => {
    expect(finishOf(run(agentAnswersThenCustomer('ANSWER')))).toMatchObject({ status: '200', userId: 11 });
  });

  it('finishes as 486 when the agent answers but the customer is busy (core bug: reports 200)', () => {
    expect(finishOf(run(agentAnswersThenCustomer('BUSY')))).toMatchObject({ status: '486', durationSec: 0 });
  });

  it("counts talk time from the customer's answer in the recorded click_to_call trace (core bug: 8 s, not 6 s)", () => {
    const tracker = traceTracker();
    const effects = tracker.handle({ ...start, linkedid: 'c2c-agent-leg-001', at: 1_795_263_576_000 });
    for (const msg of traceMessages('click_to_call')) {
      const input = normalize(msg, 0);
      if (input) effects.push(...tracker.handle(input));
    }
    expect(finishOf(effects)).toMatchObject({ status: '200', durationSec: 6 });
  });
});

describe('the core, for callbacks (no CALL_ID yet)', () => {
  const { callId: _none, ...withoutCallId } = start as Extract<CoreInput, { kind: 'clickToCall' }>;
  const callback: CoreInput = { ...withoutCallId, linkedid: 'c2c-1', ext: '600', userId: 7, lineNumber: 'line1', crmEntity: { type: 'CONTACT', id: 501 } };

  it('registers the call itself (TYPE 4, for the user it rings first, bound to the form’s entity), then shows the card', () => {
    expect(run([callback])).toEqual([
      { type: 'register', linkedid: 'c2c-1', userId: 7, phoneNumber: '5559876', callType: 4, lineNumber: 'line1', startedAt: 0, crmCreate: true, crmEntity: { type: 'CONTACT', id: 501 } },
      { type: 'show', linkedid: 'c2c-1', userIds: [7] },
    ]);
  });

  it('registers it once, and finishes it as 503 when nothing could be rung', () => {
    const effects = run([callback, callback, { kind: 'originateFailed', at: 5, linkedid: 'c2c-1', reason: 8 }]);
    expect(effects.filter((e) => e.type === 'register')).toHaveLength(1);
    expect(finishOf(effects)).toMatchObject({ type: 'finish', linkedid: 'c2c-1', status: '503' });
    expect(effects.some((e) => e.type === 'bindCallId')).toBe(false);
  });

  it('creates no lead for a callback when bitrix.crmCreate.inbound is off', () => {
    const tracker = traceTracker({ crmCreate: { inbound: false, outbound: true } });
    expect(tracker.handle(callback)[0]).toMatchObject({ type: 'register', crmCreate: false });
  });
});
