import { afterEach, describe, expect, it } from 'vitest';
import { offlineEventsState } from '../../src/app/app-mode.js';
import { OfflineEventPoller, type OfflineEvent } from '../../src/app/offline-events.js';
import { AppAuth } from '../../src/bitrix/auth/app-auth.js';
import { oauthServer } from '../../src/bitrix/auth/oauth-server.js';
import { sqliteTokenStore } from '../../src/bitrix/auth/sqlite-token-store.js';
import { createBitrixClient } from '../../src/bitrix/client.js';
import { LeakyBucket } from '../../src/bitrix/limiter.js';
import { openStateDb, type StateDb } from '../../src/store/db.js';
import { APP, authorise, startAppRig } from '../support/app-rig.js';
import { silentLogger } from '../support/logger.js';
import type { Rig } from '../support/rig.js';
import { tempDir } from '../support/tmp.js';
import { traceBytes } from '../support/traces.js';
import { waitFor } from '../support/wait.js';

/**
 * Click-to-call with no inbound connection: the portal keeps ONEXTERNALCALLSTART as an offline event, the bridge
 * fetches it, rings the agent, then the customer, and clears it. A replayed event never rings twice.
 */

let rig: Rig | undefined;
const dbs: StateDb[] = [];
afterEach(async () => {
  await rig?.close();
  rig = undefined;
  for (const db of dbs.splice(0)) db.close();
});

const originates = (r: Rig) => r.pbx.received.filter((a) => a['Action'] === 'Originate');
const telephony = (r: Rig) => r.portal.commands.filter((c) => c.method.startsWith('telephony.'));

async function readyRig(o: { offlineExtended?: boolean } = {}): Promise<Rig> {
  const r = await startAppRig(o);
  await authorise(r);
  await waitFor(() => r.portal.bindings.length === 2, 'the offline bindings');
  return r;
}

describe('click-to-call through offline events', () => {
  it('rings the agent, then the customer, shows one card and finishes once, with no request from Bitrix24 to the bridge', async () => {
    rig = await readyRig();
    const click = await rig.portal.clickToCall({ userId: 11, phoneNumber: '555-98-76' });
    expect(click.callId).toMatch(/^externalCall\./);
    const originate = await rig.pbx.waitForAction('Originate', undefined, 10_000);
    expect(originate).toMatchObject({ Channel: 'Local/101@agents/n', Context: 'outbound', Exten: '5559876', Variable: [`__B24_CALL_ID=${click.callId}`, 'B24_EXT=101'] });
    const channelId = originate['ChannelId'] as string;
    await waitFor(() => telephony(rig!).some((c) => c.method === 'telephony.externalcall.show'), 'the card while the agent rings');
    await rig.pbx.replay(traceBytes('click_to_call').toString('utf8').replaceAll('c2c-agent-leg-001', channelId));
    await waitFor(() => telephony(rig!).some((c) => c.method === 'telephony.externalcall.finish'), 'the finish');
    // The click registered the call inside the portal; the bridge sent only the card and the finish, with its token.
    expect(telephony(rig).map((c) => [c.method, c.authType])).toEqual([
      ['telephony.externalcall.show', 'app'],
      ['telephony.externalcall.finish', 'app'],
    ]);
    expect(rig.portal.calls.get(click.callId!)).toMatchObject({ finished: true, finishedBy: 11 });
    expect(telephony(rig)[1]!.params).toMatchObject({ CALL_ID: click.callId, USER_ID: '11', STATUS_CODE: '200', DURATION: '6' });
    // Nothing was POSTed to the bridge: the portal delivered the click offline, and it was cleared once handled.
    expect(rig.portal.events).toEqual([]);
    expect(click.deliveries.map((d) => d.kind)).toEqual(['offline']);
    await waitFor(() => rig!.portal.offlineEvents.length === 0, 'the offline queue cleared');
    expect(originates(rig)).toHaveLength(1);
  });

  it('rings once when the same click is delivered twice', async () => {
    rig = await readyRig();
    const click = await rig.portal.clickToCall({ userId: 11, phoneNumber: '5559876' });
    await rig.pbx.waitForAction('Originate', undefined, 10_000);
    await waitFor(() => rig!.portal.offlineEvents.length === 0, 'the first delivery cleared');
    rig.portal.pushOfflineEvent('ONEXTERNALCALLSTART', click.data!);
    await waitFor(() => rig!.portal.offlineEvents.length === 0, 'the second delivery fetched and cleared');
    await rig.bridge.ami.action('Ping');
    expect(originates(rig)).toHaveLength(1);
  });

  it('on a plan without rest_offline_extended reads and clears at once, and /healthz says a crash can lose a click', async () => {
    rig = await readyRig({ offlineExtended: false });
    await rig.portal.clickToCall({ userId: 12, phoneNumber: '5559876' });
    const originate = await rig.pbx.waitForAction('Originate', undefined, 10_000);
    expect(originate['Channel']).toBe('Local/102@agents/n');
    const health = (await (await fetch(`${rig.base}/healthz`)).json()) as { status: string; problems: Array<{ kind: string; text: string; degrading: boolean }> };
    expect(health.problems).toContainEqual({ kind: 'events', text: expect.stringContaining('a crash at the wrong moment can lose a click'), degrading: false });
  });
});

describe('the offline event poller', () => {
  it('after a crash between handling and clearing, fetches the marked rows again by their process id, clears them and starts nothing twice', async () => {
    rig = await readyRig();
    // The daemon's own poller stops: this test plays two runs of the poller on one state store.
    await rig.stopBridge();
    const db = openStateDb(tempDir());
    dbs.push(db);
    const portal = rig.portal;
    const seeded = portal.issueAppTokens();
    const auth = new AppAuth({ store: sqliteTokenStore(db), oauth: oauthServer({ ...APP, timeoutMs: 5000 }), oauthUrl: portal.oauthUrl, clock: Date.now, logger: silentLogger });
    auth.install({ accessToken: seeded.accessToken, refreshToken: seeded.refreshToken, expiresInSec: 3600, clientEndpoint: `${portal.url}/rest/`, domain: seeded.domain, memberId: seeded.memberId, applicationToken: seeded.applicationToken });
    const client = createBitrixClient({ auth, limiter: new LeakyBucket({ perSecond: 50, burst: 50 }) });
    const started: OfflineEvent[] = [];
    let crash = true;
    const crashingClient = {
      call: async <T,>(method: string, params?: Record<string, unknown>): Promise<T> => {
        // The first run dies after starting the calls, before its clear reaches the portal.
        if (method === 'event.offline.clear' && crash) throw new Error('killed');
        return client.call<T>(method, params);
      },
    };
    const poller = () =>
      new OfflineEventPoller({
        client: crashingClient,
        state: offlineEventsState(db),
        handle: async (e) => {
          started.push(e);
          return { ok: true, event: e.name, callId: String(e.data['CALL_ID']), linkedid: 'x' };
        },
        pollMs: 60_000,
        portalBusy: () => false,
        clock: Date.now,
        logger: silentLogger,
      });
    await portal.clickToCall({ userId: 11, phoneNumber: '5559876' });
    await portal.clickToCall({ userId: 12, phoneNumber: '5559877' });
    const first = poller();
    await first.pollNow();
    expect(started.map((e) => e.data['USER_ID'])).toEqual([11, 12]);
    // Marked by the dead run: hidden from any fresh read, still in the queue.
    expect(portal.offlineEvents.map((r) => r.processId !== '')).toEqual([true, true]);

    crash = false;
    const second = poller();
    await second.pollNow();
    expect(second.stats).toMatchObject({ replays: 2, events: 0 });
    expect(started).toHaveLength(2);
    expect(portal.offlineEvents).toEqual([]);
    // And it goes on with new clicks.
    await portal.clickToCall({ userId: 13, phoneNumber: '5559878' });
    await second.pollNow();
    expect(started.map((e) => e.data['USER_ID'])).toEqual([11, 12, 13]);
    expect(portal.offlineEvents).toEqual([]);
  });
});

describe('a lost answer to the offline read', () => {
  it('finds the rows that read marked (they are hidden from every fresh read) and starts them once', async () => {
    rig = await readyRig();
    // The bridge's read runs on the portal, then its answer is lost: the rows are marked with a process id the
    // bridge never learned.
    rig.portal.faults.loseAnswers(1, { methods: ['event.offline.get'] });
    await rig.portal.clickToCall({ userId: 11, phoneNumber: '5559876' });
    await waitFor(() => rig!.portal.faults.lostAnswers > 0, 'the lost answer');
    expect(rig.portal.offlineEvents.map((r) => r.processId !== '')).toEqual([true]);
    await rig.pbx.waitForAction('Originate', undefined, 20_000);
    await waitFor(() => rig!.portal.offlineEvents.length === 0, 'the orphaned row cleared');
    expect(originates(rig)).toHaveLength(1);
  });
});
