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

/** The wired daemon's view of the portal, and its user map, when the portal is away at start. */

let portal: BitrixEmulator | undefined;
let pbx: AmiSimulator | undefined;
let bridge: Bridge | undefined;

afterEach(async () => {
  await bridge?.stop(500);
  await pbx?.close();
  await portal?.close();
  bridge = pbx = portal = undefined;
});

const USERS = [
  { ID: '11', ACTIVE: true, NAME: 'Agent', LAST_NAME: '101', UF_PHONE_INNER: '101' },
  { ID: '12', ACTIVE: true, NAME: 'Agent', LAST_NAME: '102', UF_PHONE_INNER: '102' },
  { ID: '13', ACTIVE: true, NAME: 'Agent', LAST_NAME: '103', UF_PHONE_INNER: '103' },
];

it('reports the portal down while it is away, loads the user map as soon as it is back, and pops the cards then', async () => {
  portal = await startBitrixEmulator({ users: USERS });
  pbx = await startAmiSimulator({ username: 'bridge', secret: 's' });
  portal.faults.setDown(503);
  const config = parseConfig({
    asterisk: { ami: { host: pbx.host, port: pbx.port, username: 'bridge', secret: 's' } },
    bitrix: { webhookUrl: portal.webhookUrl, defaultUserId: 1 },
    http: { host: '127.0.0.1', port: 0 },
    state: { dir: join(tempDir('b24health-'), 'state') },
    recordings: { enabled: false },
  });
  bridge = await startBridge(config, { logger: pino({ level: 'silent' }), store: new MemoryOutboxStore(), userMapRetryMs: 100 });

  // No call has happened: only the user map's request has told the daemon that the portal is away.
  expect(bridge.health()).toMatchObject({ portal: false, lastError: expect.stringMatching(/^portal: user\.get PORTAL_UNAVAILABLE/) });
  const base = `http://127.0.0.1:${bridge.endpoint.server.port}`;
  expect((await fetch(`${base}/healthz`)).status).toBe(503);
  expect(bridge.directory.userIdFor('102')).toBeUndefined();

  portal.faults.setUp();
  await waitFor(() => bridge!.directory.userIdFor('102') === 12, 5_000, 'the user map, retried after the outage');
  expect(bridge.health().portal).toBe(true);
  expect((await fetch(`${base}/healthz`)).status).toBe(200);

  await pbx.replay(traceBytes('support_ringall_answer'), { speed: 20 });
  await waitFor(() => [...portal!.calls.values()].some((c) => c.finished), 10_000, 'the finished call');
  const shown = portal.commands
    .filter((c) => c.ok && c.method === 'telephony.externalcall.show')
    .flatMap((c) => [c.params['USER_ID']].flat().map(String));
  expect(shown.sort()).toEqual(['11', '12', '13']);
  expect([...portal.calls.values()][0]!.finishedBy).toBe(12);
});
