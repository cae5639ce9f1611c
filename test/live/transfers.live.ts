import { describe, expect, it } from 'vitest';
import { sleep } from '../support/wait.js';
import { liveBed, type LiveDaemon } from './support/bed.js';
import { cardMoves, cardsLeftOpen, expectEachCallOnce, finished, telephony } from './support/portal.js';
import { answeredBy102, attendedTransferToExtension, redirectToAgent } from './support/scenarios.js';

/**
 * Transfers and an outbound call on a real Asterisk 22, the scenarios of the shared traces (blind_transfer,
 * click_to_call) plus a Redirect of the caller and an attended transfer (AMI Atxfer) to an agent's extension.
 */

let live: LiveDaemon | undefined;
const lab = liveBed();

const noFollowerChange = async (): Promise<void> => undefined;

describe('transfers, live', () => {
  it('blind transfer (AMI BlindTransfer of 102 to 103): 12\'s card closes, 13\'s opens while it rings, finished by 13 who talked last', async () => {
    live = await lab.daemon();
    const { pbx } = lab.bed;
    const { agent } = await answeredBy102(pbx, '5555001');
    await sleep(2000);
    await pbx.agents({ '103': 'answer-after-2:5' });
    await pbx.action('BlindTransfer', { Channel: agent, Context: 'xfer', Exten: '103' });
    const { call, finish } = await finished(live.portal, '5555001');
    expect(cardMoves(live.portal, call.callId)).toEqual([
      ['show', [11, 12, 13]],
      ['hide', [11, 13]],
      ['hide', [12]],
      ['show', [13]],
    ]);
    expect(finish.params).toMatchObject({ USER_ID: '13', STATUS_CODE: '200' });
    // 102 answered at 1 s, the transfer at 3 s, 103 answered at 5 s and talked 5 s.
    expect(Number(finish.params['DURATION'])).toBeGreaterThanOrEqual(8);
    expect(Number(finish.params['DURATION'])).toBeLessThanOrEqual(10);
    expect(cardsLeftOpen(call)).toEqual([]);
    expect(expectEachCallOnce(live.portal)).toEqual([]);
  });

  it('Redirect of the caller to 103 (no transfer event at all): finished by 13, who talked last', async () => {
    live = await lab.daemon();
    await redirectToAgent({ pbx: lab.bed.pbx, down: noFollowerChange, up: noFollowerChange });
    const { call, finish } = await finished(live.portal, '5555002');
    expect(finish.params).toMatchObject({ USER_ID: '13', STATUS_CODE: '200' });
    expect(cardMoves(live.portal, call.callId).slice(0, 2)).toEqual([
      ['show', [11, 12, 13]],
      ['hide', [11, 13]],
    ]);
    expect(cardsLeftOpen(call)).toEqual([]);
    expect(expectEachCallOnce(live.portal)).toEqual([]);
  });

  it('attended transfer to an extension (AMI Atxfer of 102 to 103@from-internal): 13\'s card while it rings, 12\'s closes on completion, finished by 13', async () => {
    live = await lab.daemon();
    const from = lab.bed.pbx.mark();
    await attendedTransferToExtension({ pbx: lab.bed.pbx, down: noFollowerChange, up: noFollowerChange });
    const { call, finish } = await finished(live.portal, '5555003');
    expect(finish.params).toMatchObject({ USER_ID: '13', STATUS_CODE: '200' });
    expect(cardMoves(live.portal, call.callId)).toEqual([
      ['show', [11, 12, 13]],
      ['hide', [11, 13]],
      ['show', [13]],
      ['hide', [12]],
    ]);
    // 12's card closes on completion (the agent hangs up a second after 103 answered), not when 103 answers.
    const transferSeen = lab.bed.pbx.events.slice(from).find((e) => e.msg['Event'] === 'AttendedTransfer')!.at;
    const hide12 = telephony(live.portal).find((c) => c.method === 'hide' && ([] as unknown[]).concat(c.params['USER_ID']).includes('12'))!;
    expect(hide12.at).toBeGreaterThan(transferSeen - 300);
    expect(cardsLeftOpen(call)).toEqual([]);
    expect(expectEachCallOnce(live.portal)).toEqual([]);
    expect(live.output()).not.toMatch(/maps to no Bitrix24 user/);
  });

  it('an outbound call placed for 101 (Originate to [outbound]): registered as outbound by 11, finished by 11 with the customer\'s talk time', async () => {
    live = await lab.daemon();
    const { pbx } = lab.bed;
    await pbx.agents({ '101': 'answer:8' });
    await pbx.customer('5559876', 'answer-after-2:60');
    await pbx.action('Originate', { Channel: 'Local/101@agents/n', Context: 'outbound', Exten: '5559876', Priority: 1, CallerID: 'Agent <101>', Async: 'true' });
    const { call, finish } = await finished(live.portal, '5559876');
    const register = telephony(live.portal).find((c) => c.method === 'register')!;
    expect(register.params).toMatchObject({ PHONE_NUMBER: '5559876', TYPE: '1', USER_ID: '11' });
    expect(finish.params).toMatchObject({ USER_ID: '11', STATUS_CODE: '200', DURATION: '6' });
    expect(cardsLeftOpen(call)).toEqual([]);
    expect(expectEachCallOnce(live.portal)).toEqual([]);
  });
});
