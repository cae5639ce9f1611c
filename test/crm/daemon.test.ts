import { afterEach, expect, it } from 'vitest';
import { MemoryOutboxStore } from '../../src/bitrix/outbox-entry.js';
import { startRig, type Rig } from '../support/rig.js';
import { traceBytes } from '../support/traces.js';
import { waitFor } from '../support/wait.js';
import { CRM, USERS } from './harness.js';

/** The CRM features inside the wired daemon: lookups over its HTTP server, then a real trace through AMI. */

let rig: Rig | undefined;

afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const TOKEN = 'a-token-of-16-chars-or-more';

it('routes, names, registers the call bound to its contact, follows up the missed call and notes the timeline', async () => {
  rig = await startRig({
    portal: { users: USERS, crm: CRM },
    config: () => ({
      users: { extensions: { '101': 11, '102': 12, '103': 13 }, refreshIntervalSec: 0 },
      crm: { missedCall: { enabled: true }, timeline: { enabled: true }, lookupToken: TOKEN },
    }),
    deps: { store: new MemoryOutboxStore() },
  });
  const { portal, pbx, base } = rig;

  const route = await fetch(`${base}/route?number=5553001&token=${TOKEN}`);
  expect([route.status, await route.text()]).toEqual([200, '101']);
  const name = await fetch(`${base}/callerid?number=5553001`, { headers: { 'X-Token': TOKEN } });
  expect(await name.text()).toBe('Trace Caller');
  expect((await fetch(`${base}/route?number=5553001&token=wrong`)).status).toBe(401);

  await pbx.replay(traceBytes('caller_abandon'));
  await waitFor(() => portal.state.tasks.length > 0 && portal.state.comments.length > 0, 'the task and the timeline note', 15_000);
  expect([...portal.calls.values()][0]).toMatchObject({ crmEntityType: 'CONTACT', crmEntityId: '505', finished: true });
  expect(portal.state.tasks[0]!.fields).toMatchObject({ RESPONSIBLE_ID: '11', UF_CRM_TASK: ['C_505'] });
  expect(portal.state.comments[0]).toMatchObject({ entityType: 'contact', entityId: 505 });
});
