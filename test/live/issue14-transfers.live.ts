import { describe, expect, it } from 'vitest';
import { liveBed, type LiveDaemon } from './support/bed.js';
import { cardMoves, cardsLeftOpen, expectEachCallOnce, finished, telephony } from './support/portal.js';
import { attendedTransferToQueue } from './support/scenarios.js';

/**
 * Issue 14 case 1, live: an attended transfer whose consultation enters a queue (7200: Queue(backoffice)) or a ring
 * group (7100: Dial() of 201 and 202). Expected, per the issue: the queue's members get the customer's card while
 * they ring, the transferring agent's card closes on completion, and the finish names the member who talked last
 * (201), with the whole talk time. The same scenario is recorded as attended_transfer_to_queue/_ringgroup.
 */

let live: LiveDaemon | undefined;
const lab = liveBed();

const noDown = async (): Promise<void> => undefined;

describe('issue 14 case 1: attended transfer into a queue or a ring group, live', () => {
  it.each([
    ['7200', 'a queue (backoffice)', '5556001'],
    ['7100', 'a ring group (Dial of 201 and 202)', '5556101'],
  ] as const)('consultation to %s, %s: members\' cards while they ring, 12\'s card closes on completion, finished by 21 with the whole talk', async (target, _what, customer) => {
    live = await lab.daemon();
    await attendedTransferToQueue({ pbx: lab.bed.pbx, down: noDown, up: noDown }, target, customer);
    const { call, finish } = await finished(live.portal, customer);
    expect(telephony(live.portal).filter((c) => c.method === 'register')).toHaveLength(1);
    // 102 answered 1 s in, the customer hung up 20 s in: 19 s of talk, 102's and then 201's.
    expect(finish.params).toMatchObject({ USER_ID: '21', STATUS_CODE: '200' });
    expect(Number(finish.params['DURATION'])).toBeGreaterThanOrEqual(18);
    expect(Number(finish.params['DURATION'])).toBeLessThanOrEqual(20);
    expect(cardMoves(live.portal, call.callId)).toEqual([
      ['show', [11, 12, 13]],
      ['hide', [11, 13]],
      ['show', [21, 22]],
      ['hide', [22]],
      ['hide', [12]],
    ]);
    expect(cardsLeftOpen(call)).toEqual([]);
    expect(expectEachCallOnce(live.portal)).toEqual([]);
    // The consultation leg (Local/7x00@from-internal) is no agent's phone.
    expect(live.output()).not.toMatch(new RegExp(`"ext":"${target}".*extension maps to no Bitrix24 user`));
  });
});
