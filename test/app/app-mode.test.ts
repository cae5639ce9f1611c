import { afterEach, describe, expect, it } from 'vitest';
import { APP, authorise, startAppRig as appRig } from '../support/app-rig.js';
import type { Rig } from '../support/rig.js';
import { waitFor } from '../support/wait.js';
import { fileURLToPath } from 'node:url';
import { DEMO_CRM } from '../../src/demo/scenarios.js';
import { shifted, asTrace, replayEvents } from '../support/trace-replay.js';
import { expectedEffects, TRACE_USERS, traceNames, traceSessions } from '../support/traces.js';

const RECORDINGS = fileURLToPath(new URL('../fixtures/recordings', import.meta.url));
/** The traces of one AMI session (a restart's second session needs a restarted daemon, tested elsewhere). */
const ONE_SESSION = traceNames().filter((name) => traceSessions(name).length === 1);
/** What the reviewed effects say Bitrix24 must finish for them. */
const CALLS_PER_TRACE = ONE_SESSION.reduce((n, name) => n + expectedEffects(name).filter((e) => e.effect.type === 'finish').length, 0);
const DEMO_CRM_PHONE = DEMO_CRM.contacts[0]!.PHONE[0]!.VALUE;

/**
 * Application mode against the strict emulator with webhooks refused for telephony (the documented 2026 rule):
 * authorised without any inbound connection (`auth --code`), the traces go out with the application's token,
 * click-to-call comes through offline events, and the tokens rotate under load without losing or repeating a call.
 */

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const telephony = (r: Rig) => r.portal.commands.filter((c) => c.method.startsWith('telephony.'));

describe('application mode', () => {
  it('starts unauthorised with /healthz saying what to do, and waits; `auth --code` authorises it with no inbound request', async () => {
    rig = await appRig();
    const before = await fetch(`${rig.base}/healthz`);
    expect(before.status).toBe(503);
    const body = (await before.json()) as { problems: Array<{ kind: string; text: string }> };
    expect(body.problems).toContainEqual(expect.objectContaining({ kind: 'auth', text: expect.stringContaining('asterisk-b24-bridge auth --config FILE') }));

    // A call while unauthorised waits in the outbox, nothing is parked or lost.
    await rig.pbx.replay(asTrace(replayEvents('support_ringall_answer')));
    await waitFor(() => rig!.bridge.outbox.depth > 0, 'commands waiting for the authorisation');
    expect(rig.bridge.outbox.parkedEntries()).toEqual([]);
    expect(telephony(rig)).toEqual([]);

    const printed = await authorise(rig);
    expect(printed.join('\n')).toContain(`${rig.portal.url}/oauth/authorize/?client_id=${APP.clientId}&state=`);
    expect(printed.join('\n')).not.toContain(APP.clientSecret);
    await waitFor(() => rig!.portal.calls.size === 1 && [...rig!.portal.calls.values()][0]!.finished, 'the call registered and finished once authorised', 20_000);
    const call = [...rig.portal.calls.values()][0]!;
    expect(call.finishedBy).toBe(12);
    // Every telephony command went with the application's token, none with the webhook. (The cards shown and
    // hidden while the commands waited were dropped unsent: only register and finish were left.)
    expect(telephony(rig).map((c) => c.method)).toEqual(['telephony.externalcall.register', 'telephony.externalcall.finish']);
    expect(new Set(telephony(rig).map((c) => c.authType))).toEqual(new Set(['app']));
    await waitFor(() => rig!.portal.bindings.length === 2, 'the two offline bindings');
    expect(rig.portal.bindings.map((b) => [b.event, b.handler])).toEqual([
      ['ONEXTERNALCALLSTART', ''],
      ['ONEXTERNALCALLBACKSTART', ''],
    ]);
    expect((await fetch(`${rig.base}/healthz`)).status).toBe(200);
  });

  it('replays every recorded trace with the application\'s token where webhooks are refused: one register and one finish per call, the recording attached through the upload URL', { timeout: 90_000 }, async () => {
    rig = await appRig({
      config: () => ({
        users: { extensions: TRACE_USERS },
        recordings: { enabled: true, source: { type: 'mount', rewrite: { from: '/var/spool/asterisk/monitor', to: RECORDINGS } }, stableMs: 100, appearTimeoutMs: 2000, inlineMaxBytes: 0 },
      }),
    });
    await authorise(rig);
    let offset = 0;
    for (const name of ONE_SESSION) await rig.pbx.replay(asTrace(shifted(replayEvents(name), (offset += 600))));
    const expected = CALLS_PER_TRACE;
    await waitFor(() => rig!.portal.calls.size === expected && [...rig!.portal.calls.values()].every((c) => c.finished), `${expected} calls finished`, 30_000);
    await waitFor(() => rig!.portal.records.length === 1, 'the recording attached', 30_000);
    expect(rig.portal.records[0]).toMatchObject({ mode: 'upload', fileName: '1795263642.90.mp3' });
    const registers = telephony(rig).filter((c) => c.method === 'telephony.externalcall.register');
    expect(registers).toHaveLength(expected);
    expect(new Set(registers.map((c) => c.params['EXTERNAL_CALL_ID'])).size).toBe(expected);
    expect(new Set(telephony(rig).map((c) => c.authType))).toEqual(new Set(['app']));
    expect(rig.portal.requests.filter((r) => r.status === 403)).toEqual([]);
    expect(rig.bridge.outbox.parkedEntries()).toEqual([]);
  });

  it('takes a CRM callback form through offline events: registers it (TYPE 4) with the application\'s token and rings the queue, then the customer', async () => {
    rig = await appRig();
    await authorise(rig);
    await waitFor(() => rig!.portal.bindings.length === 2, 'the bindings');
    await rig.portal.callback({ phoneNumber: '+7 999 000-11-22' });
    const originate = await rig.pbx.waitForAction('Originate', undefined, 10_000);
    expect(originate).toMatchObject({ Channel: 'Local/600@agents', Exten: '79990001122' });
    // The core registers the callback and the outbox delivers it (in a batch: the emulator records strings).
    const register = await waitFor(() => rig!.portal.commands.find((c) => c.method === 'telephony.externalcall.register' && c.ok), 'the register');
    expect(register).toMatchObject({ authType: 'app', params: expect.objectContaining({ TYPE: '4', PHONE_NUMBER: '+79990001122', CRM_SOURCE: 'CALL' }) });
  });

  it('answers the dialplan\'s CRM lookups through the application\'s token', async () => {
    rig = await appRig();
    await authorise(rig);
    const res = await fetch(`${rig.base}/route?number=${encodeURIComponent(DEMO_CRM_PHONE)}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^\d+$/);
    expect(rig.portal.commands.filter((c) => c.method === 'telephony.externalcall.searchcrmentities').map((c) => c.authType)).toEqual(['app']);
  });
});
