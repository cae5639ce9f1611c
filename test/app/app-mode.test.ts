import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { APP, authorise, startAppRig as appRig } from '../support/app-rig.js';
import type { Rig } from '../support/rig.js';
import { removeTempDirs } from '../support/tmp.js';
import { waitFor } from '../support/wait.js';
import { shifted, asTrace, replayEvents } from '../support/trace-replay.js';

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
afterAll(removeTempDirs);

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

  it('replays every recorded call with the application\'s token where webhooks are refused: one register and one finish each', async () => {
    rig = await appRig();
    await authorise(rig);
    const names = ['support_ringall_answer', 'caller_abandon', 'blind_transfer', 'no_members_all_paused'];
    let offset = 0;
    for (const name of names) {
      await rig.pbx.replay(asTrace(shifted(replayEvents(name), (offset += 120))));
    }
    await waitFor(() => rig!.portal.calls.size === names.length && [...rig!.portal.calls.values()].every((c) => c.finished), 'every call finished', 20_000);
    const refused = rig.portal.requests.filter((r) => /WRONG_AUTH_TYPE/.test(JSON.stringify(r)));
    expect(refused).toEqual([]);
    const registers = telephony(rig).filter((c) => c.method === 'telephony.externalcall.register');
    expect(registers).toHaveLength(names.length);
    expect(new Set(registers.map((c) => c.params['EXTERNAL_CALL_ID'])).size).toBe(names.length);
  });
});
