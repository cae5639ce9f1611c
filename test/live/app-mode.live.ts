import { describe, expect, it } from 'vitest';
import { LIVE_APP, liveBed, type LiveDaemon } from './support/bed.js';
import { cardMoves, finished, telephony } from './support/portal.js';
import { waitFor } from '../support/wait.js';

/**
 * Application mode against the real Asterisk, where the portal refuses webhooks for telephony: a queue call is
 * registered and finished with the application's token, and a click in Bitrix24 reaches the PBX as an offline event
 * the daemon fetches (no request from Bitrix24 to the daemon at all): the agent rings, then the customer.
 */

let live: LiveDaemon | undefined;
const lab = liveBed();

describe('application mode, live', () => {
  it('registers and finishes a queue call with the application\'s token where the portal refuses webhooks', async () => {
    live = await lab.daemon({ app: true });
    const { pbx } = lab.bed;
    await pbx.agents({ '101': 'noanswer', '102': 'answer-after-1:4', '103': 'noanswer' });
    await pbx.customer('5558301', 'answer:60');
    await pbx.call('5558301', 'support');
    const { call, finish } = await finished(live.portal, '5558301');
    expect(finish.params).toMatchObject({ USER_ID: '12', STATUS_CODE: '200' });
    expect(call).toMatchObject({ finished: true, finishedBy: 12 });
    const app = live.portal.commands.filter((c) => c.method.startsWith('telephony.externalcall.'));
    expect(app.length).toBeGreaterThanOrEqual(3);
    expect(new Set(app.map((c) => c.authType))).toEqual(new Set(['app']));
    expect(live.portal.requests.filter((r) => r.status === 403)).toEqual([]);
  });

  it('turns a click in Bitrix24 into a call with no inbound connection: offline event, agent first, then the customer, finished by the agent', async () => {
    live = await lab.daemon({ app: true });
    const { pbx } = lab.bed;
    await pbx.agents({ '101': 'answer:8' });
    await pbx.customer('5559878', 'answer-after-2:60');
    await waitFor(() => live!.portal.bindings.length === 2, 'the application bound to the click-to-call events', 10_000);
    const click = await live.portal.clickToCall({ userId: 11, phoneNumber: '5559878' });
    expect(click.deliveries.map((d) => d.kind)).toEqual(['offline']);
    const { call, finish } = await finished(live.portal, '5559878');
    expect(call).toMatchObject({ callId: click.callId, registeredVia: 'internal', finished: true, finishedBy: 11 });
    expect(telephony(live.portal).filter((c) => c.method === 'register')).toEqual([]);
    expect(cardMoves(live.portal, click.callId!)).toEqual([['show', [11]]]);
    expect(finish.params).toMatchObject({ CALL_ID: click.callId, USER_ID: '11', STATUS_CODE: '200', DURATION: '6' });
    // Nothing was posted to the daemon: the portal kept the click, the daemon fetched and cleared it.
    expect(live.portal.events).toEqual([]);
    expect(live.portal.offlineEvents).toEqual([]);
    expect(live.output()).not.toContain(LIVE_APP.clientSecret);
  });
});
