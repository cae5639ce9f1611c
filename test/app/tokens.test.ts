import { afterEach, describe, expect, it } from 'vitest';
import { APP, authorise, startAppRig } from '../support/app-rig.js';
import type { Rig } from '../support/rig.js';
import { asTrace, replayEvents, shifted } from '../support/trace-replay.js';
import { sleep, waitFor } from '../support/wait.js';

/** The application's tokens under load and when they die: nothing lost, nothing sent twice, the admin told what to do. */

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const calls = (r: Rig) => [...r.portal.calls.values()];

describe('application tokens', () => {
  it('expiring every 2 s during a burst of calls: one refresh per expiry, every call registered once and finished', async () => {
    rig = await startAppRig({ accessTokenTtlSec: 2 });
    await authorise(rig);
    const events = replayEvents('support_ringall_answer');
    const started = Date.now();
    const n = 16;
    for (let i = 0; i < n; i++) {
      // A new call every ~400 ms: the burst spans several token lifetimes.
      await rig.pbx.replay(asTrace(shifted(events, (i + 1) * 60).map((e) => ({ ...e, ...(e['Linkedid'] ? { Linkedid: `${e['Linkedid']}-${i}` } : {}), ...(e['Uniqueid'] ? { Uniqueid: `${e['Uniqueid']}-${i}` } : {}) }))));
      await sleep(400);
    }
    await waitFor(() => calls(rig!).length === n && calls(rig!).every((c) => c.finished), 'every call finished', 30_000);
    const elapsedSec = (Date.now() - started) / 1000;
    const refreshes = rig.portal.oauth.refreshes;
    // One refresh per token lifetime, never one per request (50 requests meeting one expiry share it).
    expect(refreshes).toBeGreaterThanOrEqual(2);
    expect(refreshes).toBeLessThanOrEqual(Math.ceil(elapsedSec / 2) + 1);
    expect(rig.portal.oauth.requests.filter((r) => r.error !== undefined)).toEqual([]);
    for (const c of calls(rig)) expect(rig.portal.registrationCount(c.externalCallId!)).toBe(1);
    expect(rig.bridge.outbox.parkedEntries()).toEqual([]);
  });

  it('when the refresh token is revoked mid-run, keeps the calls waiting, says what to do, and sends them after `auth --code`', async () => {
    rig = await startAppRig();
    await authorise(rig);
    rig.portal.revokeRefreshTokens();
    rig.portal.expireAccessTokens();
    await rig.pbx.replay(asTrace(replayEvents('caller_abandon')));
    await waitFor(() => rig!.bridge.health().problems.some((p) => p.kind === 'auth'), 'the auth problem in health');
    const health = await fetch(`${rig.base}/healthz`);
    expect(health.status).toBe(503);
    const body = (await health.json()) as { problems: Array<{ kind: string; text: string }> };
    expect(body.problems).toContainEqual(expect.objectContaining({ kind: 'auth', text: expect.stringMatching(/invalid_grant.*auth --config FILE/) }));
    await waitFor(() => rig!.bridge.outbox.depth > 0, 'commands waiting');
    expect(rig.bridge.outbox.parkedEntries()).toEqual([]);
    expect(rig.portal.calls.size).toBe(0);

    await authorise(rig);
    await waitFor(() => calls(rig!).length === 1 && calls(rig!)[0]!.finished, 'the call sent after re-authorisation', 40_000);
    expect(calls(rig)[0]).toMatchObject({ finishedBy: 1 });
    expect(rig.portal.registrationCount(calls(rig)[0]!.externalCallId!)).toBe(1);
    await waitFor(() => !rig!.bridge.health().problems.some((p) => p.kind === 'auth'), 'health without the auth problem');
    expect(APP.clientId).toMatch(/^local\./);
  });
});
