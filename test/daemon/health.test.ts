import { afterEach, expect, it } from 'vitest';
import { MemoryOutboxStore } from '../../src/bitrix/outbox-entry.js';
import { startRig, type Rig } from '../support/rig.js';
import { traceBytes } from '../support/traces.js';
import { waitFor } from '../support/wait.js';

/** The wired daemon's view of the portal, and its user map, when the portal is away at start. */

let rig: Rig | undefined;

afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const USERS = [
  { ID: '11', ACTIVE: true, NAME: 'Agent', LAST_NAME: '101', UF_PHONE_INNER: '101' },
  { ID: '12', ACTIVE: true, NAME: 'Agent', LAST_NAME: '102', UF_PHONE_INNER: '102' },
  { ID: '13', ACTIVE: true, NAME: 'Agent', LAST_NAME: '103', UF_PHONE_INNER: '103' },
];

it('reports the portal down while it is away, loads the user map as soon as it is back, and pops the cards then', async () => {
  rig = await startRig({
    portal: { users: USERS },
    beforeStart: ({ portal }) => portal.faults.setDown(503),
    deps: { store: new MemoryOutboxStore(), userMapRetryMs: 100 },
  });
  const { bridge, portal, pbx } = rig;

  // No call has happened: only the user map's request has told the daemon that the portal is away.
  expect(bridge.health()).toMatchObject({ portal: false, lastError: expect.stringMatching(/^portal: user\.get PORTAL_UNAVAILABLE/) });
  expect((await fetch(`${rig.base}/healthz`)).status).toBe(503);
  expect(bridge.directory.userIdFor('102')).toBeUndefined();

  portal.faults.setUp();
  await waitFor(() => bridge.directory.userIdFor('102') === 12, 'the user map, retried after the outage', 5_000);
  expect(bridge.health().portal).toBe(true);
  expect((await fetch(`${rig.base}/healthz`)).status).toBe(200);

  await pbx.replay(traceBytes('support_ringall_answer'), { speed: 20 });
  await waitFor(() => [...portal.calls.values()].some((c) => c.finished), 'the finished call', 10_000);
  const shown = portal.commands
    .filter((c) => c.ok && c.method === 'telephony.externalcall.show')
    .flatMap((c) => [c.params['USER_ID']].flat().map(String));
  expect(shown.sort()).toEqual(['11', '12', '13']);
  expect([...portal.calls.values()][0]!.finishedBy).toBe(12);
});
