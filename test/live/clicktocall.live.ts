import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait.js';
import { APP_TOKEN, liveBed, type LiveDaemon } from './support/bed.js';
import { startHttpSpy, type HttpSpy } from './support/http-spy.js';
import { concurrentCalls } from './support/scenarios.js';
import { cardMoves, cardsLeftOpen, expectEachCallOnce, finished, telephony } from './support/portal.js';

/**
 * Click-to-call through the daemon's own endpoint (the emulator posts ONEXTERNALCALLSTART to it, as Bitrix24's
 * outbound webhook does), over AMI and over ARI; a recording fetched over ARI; and several calls at once.
 */

let live: LiveDaemon | undefined;
let ari: HttpSpy | undefined;
const lab = liveBed({
  afterEachTest: async () => {
    await ari?.close();
    ari = undefined;
  },
});

/** The user clicks 5559877 in Bitrix24: Bitrix24 registers the call and posts the event to the daemon. */
async function click(number: string, userId = 11): Promise<string> {
  const callId = await live!.portal.sendEvent(live!.eventsUrl, 'ONEXTERNALCALLSTART', { USER_ID: userId, PHONE_NUMBER: number }, { applicationToken: APP_TOKEN });
  expect(live!.portal.events.at(-1)?.status).toBe(200);
  return callId!;
}

describe('click-to-call, live', () => {
  it.each(['ami', 'ari'] as const)('via %s: the agent rings first, then the customer; one card, no second register, finished by 11 with the customer\'s talk time', async (via) => {
    ari = await startHttpSpy(lab.bed.ast.httpPort);
    live = await lab.daemon({ clickVia: via, ariUrl: ari.url });
    const { pbx } = lab.bed;
    await pbx.agents({ '101': 'answer:8' });
    await pbx.customer('5559877', 'answer-after-2:60');
    const from = pbx.mark();
    const callId = await click('5559877');
    const { call, finish } = await finished(live.portal, '5559877');
    expect(call).toMatchObject({ callId, registeredVia: 'internal', finished: true, finishedBy: 11 });
    expect(telephony(live.portal).filter((c) => c.method === 'register')).toEqual([]);
    expect(cardMoves(live.portal, callId)).toEqual([['show', [11]]]);
    // The agent answered at once and hung up 8 s later; the customer answered 2 s in.
    expect(finish.params).toMatchObject({ CALL_ID: callId, USER_ID: '11', STATUS_CODE: '200', DURATION: '6' });
    // The agent's phone rang first, then [outbound] dialled the customer.
    const dials = pbx.events.slice(from).filter((e) => e.msg['Event'] === 'DialBegin').map((e) => String(e.msg['DestChannel']));
    expect(dials.some((d) => d.startsWith('Local/5559877@customer-phone-'))).toBe(true);
    // Over ARI the daemon POSTs /ari/channels and sends no AMI Originate; over AMI it never calls ARI.
    expect(/"action":"Originate"/.test(live.output())).toBe(via === 'ami');
    expect(ari.requests.filter((r) => r.startsWith('POST /ari/channels'))).toHaveLength(via === 'ari' ? 1 : 0);
  });

  it('a recording downloaded over ARI (MixMonitor into the spool\'s recording/ dir) is attached as an MP3', async () => {
    ari = await startHttpSpy(lab.bed.ast.httpPort);
    live = await lab.daemon({ recordingsOverAri: true, ariUrl: ari.url });
    const { pbx } = lab.bed;
    await pbx.agents({ '101': 'noanswer', '102': 'answer-after-1:4', '103': 'noanswer' });
    await pbx.customer('5558101', 'answer:60');
    await pbx.call('5558101', 'support', { RECORD: 'ari' });
    const { call, finish } = await finished(live.portal, '5558101');
    expect(finish.params).toMatchObject({ USER_ID: '12', STATUS_CODE: '200' });
    const record = await waitFor(() => live!.portal.records.find((r) => r.callId === call.callId), 'the recording fetched over ARI', 30_000);
    expect(record.fileName).toMatch(/\.mp3$/);
    expect(record.bytes.length).toBeGreaterThan(8_000);
    // Fetched from Asterisk over ARI (GET /ari/recordings/stored/<name>/file), not read from the disk.
    expect(ari.requests.some((r) => /^GET \/ari\/recordings\/stored\/[^/]+\/file$/.test(r))).toBe(true);
  });

  it('four calls at once (a support queue call, a backoffice queue call, a direct call to 203, a click-to-call for 301): each registered once, its own cards, finished once by its own agent', async () => {
    live = await lab.daemon();
    await concurrentCalls({ pbx: lab.bed.pbx, down: async () => undefined, up: async () => undefined }, () => click('5551204', 31));
    const expected: Array<[string, string, Array<[string, number[]]>]> = [
      ['5551201', '12', [['show', [11, 12, 13]], ['hide', [11, 13]]]],
      ['5551202', '21', [['show', [21, 22]], ['hide', [22]]]],
      ['5551203', '23', [['show', [23]]]],
      ['5551204', '31', [['show', [31]]]],
    ];
    for (const [phone, user, moves] of expected) {
      const { call, finish } = await finished(live.portal, phone);
      expect(finish.params, phone).toMatchObject({ USER_ID: user, STATUS_CODE: '200' });
      expect(cardMoves(live.portal, call.callId), phone).toEqual(moves);
      expect(cardsLeftOpen(call), phone).toEqual([]);
    }
    expect(telephony(live.portal).filter((c) => c.method === 'register').map((c) => c.params['PHONE_NUMBER']).sort()).toEqual(['5551201', '5551202', '5551203']);
    expect(expectEachCallOnce(live.portal)).toEqual([]);
  });
});
