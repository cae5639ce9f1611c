import { describe, expect, it } from 'vitest';
import { newCall, type Call } from '../../src/core/call.js';
import type { FinishStatus } from '../../src/core/effects.js';
import { finishStatus, statusForDial, statusForOriginateReason, talkSeconds } from '../../src/core/finish-policy.js';

/** The finish policy on its own: Bitrix24's STATUS_CODE and the talk time of a call that is over. */

const call = (over: Partial<Call>): Call => ({ ...newCall('c.1', 0), ...over });

describe('the finish policy', () => {
  it.each<[string | undefined, FinishStatus]>([
    ['ANSWER', '200'],
    ['BUSY', '486'],
    ['CANCEL', '603-S'],
    ['CONGESTION', '503'],
    ['CHANUNAVAIL', '480'],
    ['NOANSWER', '304'],
    ['ABORT', '304'],
    [undefined, '304'],
  ])('reads DialStatus %s as %s', (dial, status) => {
    expect(statusForDial(dial)).toBe(status);
  });

  it.each<[number, FinishStatus]>([
    [4, '200'],
    [5, '486'],
    [8, '503'],
    [1, '603'],
    [3, '304'],
    [0, '480'],
    [99, '480'],
  ])('reads an OriginateResponse Reason %i as %s', (reason, status) => {
    expect(statusForOriginateReason(reason)).toBe(status);
  });

  it.each<[string, Partial<Call>, FinishStatus]>([
    ['answered, whatever came after', { direction: 'inbound', answeredAt: 5, lastDialStatus: 'BUSY', originateFailure: '486' }, '200'],
    ['a click-to-call whose originate failed', { direction: 'outbound', originateFailure: '486', lastDialStatus: 'ANSWER' }, '486'],
    ['inbound through a queue nobody took', { direction: 'inbound', queue: 'support', lastDialStatus: 'BUSY', lastAgentHangupCause: 21 }, '304'],
    ['inbound, the agent rejected it (cause 21)', { direction: 'inbound', lastAgentHangupCause: 21, lastDialStatus: 'NOANSWER' }, '603'],
    ['inbound, the agent was busy', { direction: 'inbound', lastDialStatus: 'BUSY' }, '486'],
    ['inbound, nobody answered', { direction: 'inbound', lastDialStatus: 'NOANSWER' }, '304'],
    ['inbound, nobody was even dialled', { direction: 'inbound' }, '304'],
    ['outbound, the customer was busy', { direction: 'outbound', lastDialStatus: 'BUSY' }, '486'],
    ['outbound, the trunk was congested', { direction: 'outbound', lastDialStatus: 'CONGESTION' }, '503'],
    ['outbound, the agent cancelled', { direction: 'outbound', lastDialStatus: 'CANCEL' }, '603-S'],
  ])('finishes a call %s as %s', (_, over, status) => {
    expect(finishStatus(call(over))).toBe(status);
  });

  it.each<[number | undefined, number, number]>([
    [undefined, 90_000, 0],
    [10_000, 10_000, 0],
    [10_000, 15_499, 5],
    [10_000, 15_500, 6],
    // An end stamped before the answer (clocks of two events) is no negative duration.
    [10_000, 9_000, 0],
  ])('counts talk from the answer at %s to the end at %i as %i s', (answeredAt, endedAt, seconds) => {
    expect(talkSeconds(call({ answeredAt }), endedAt)).toBe(seconds);
  });
});
