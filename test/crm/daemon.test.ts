import { afterEach, expect, it } from 'vitest';
import { join } from 'node:path';
import { pino } from 'pino';
import { MemoryOutboxStore } from '../../src/bitrix/outbox-entry.js';
import { parseConfig } from '../../src/config/load.js';
import { startBridge, type Bridge } from '../../src/daemon/app.js';
import { startAmiSimulator, type AmiSimulator } from '../../src/sim/ami-simulator.js';
import { startBitrixEmulator, type BitrixEmulator } from '../../src/sim/bitrix-emulator.js';
import { tempDir, waitFor } from '../support/daemon-process.js';
import { traceBytes } from '../support/traces.js';
import { CRM, USERS } from './harness.js';

/** The CRM features inside the wired daemon: lookups over its HTTP server, then a real trace through AMI. */

let portal: BitrixEmulator | undefined;
let pbx: AmiSimulator | undefined;
let bridge: Bridge | undefined;

afterEach(async () => {
  await bridge?.stop(2000);
  await pbx?.close();
  await portal?.close();
  bridge = pbx = portal = undefined;
});

const TOKEN = 'a-token-of-16-chars-or-more';

it('routes, names, registers the call bound to its contact, follows up the missed call and notes the timeline', async () => {
  portal = await startBitrixEmulator({ users: USERS, crm: CRM });
  pbx = await startAmiSimulator({ username: 'bridge', secret: 's' });
  const config = parseConfig({
    asterisk: { ami: { host: pbx.host, port: pbx.port, username: 'bridge', secret: 's' } },
    bitrix: { webhookUrl: portal.webhookUrl, defaultUserId: 1 },
    users: { extensions: { '101': 11, '102': 12, '103': 13 }, refreshIntervalSec: 0 },
    http: { host: '127.0.0.1', port: 0 },
    state: { dir: join(tempDir('b24crm-'), 'state') },
    recordings: { enabled: false },
    crm: { missedCall: { enabled: true }, timeline: { enabled: true }, lookupToken: TOKEN },
  });
  bridge = await startBridge(config, { logger: pino({ level: 'silent' }), store: new MemoryOutboxStore() });
  const base = `http://127.0.0.1:${bridge.endpoint.server.port}`;

  const route = await fetch(`${base}/route?number=5553001&token=${TOKEN}`);
  expect([route.status, await route.text()]).toEqual([200, '101']);
  const name = await fetch(`${base}/callerid?number=5553001`, { headers: { 'X-Token': TOKEN } });
  expect(await name.text()).toBe('Trace Caller');
  expect((await fetch(`${base}/route?number=5553001&token=wrong`)).status).toBe(401);

  await pbx.replay(traceBytes('caller_abandon'));
  await waitFor(() => portal!.state.tasks.length > 0 && portal!.state.comments.length > 0, 15_000, 'the task and the timeline note');
  expect([...portal.calls.values()][0]).toMatchObject({ crmEntityType: 'CONTACT', crmEntityId: '505', finished: true });
  expect(portal.state.tasks[0]!.fields).toMatchObject({ RESPONSIBLE_ID: '11', UF_CRM_TASK: ['C_505'] });
  expect(portal.state.comments[0]).toMatchObject({ entityType: 'contact', entityId: 505 });
});
