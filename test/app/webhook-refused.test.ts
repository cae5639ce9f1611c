import { afterEach, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runCheck } from '../../src/daemon/check.js';
import { parseConfig } from '../../src/config/load.js';
import { startBridge, type Bridge } from '../../src/daemon/app.js';
import { APP, authorise } from '../support/app-rig.js';
import { silentLogger } from '../support/logger.js';
import { startRig, type Rig } from '../support/rig.js';
import { tempDir } from '../support/tmp.js';
import { asTrace, replayEvents } from '../support/trace-replay.js';
import { waitFor } from '../support/wait.js';

/**
 * Webhook mode against a portal that enforces the documented rule (register/finish refuse webhooks with
 * WRONG_AUTH_TYPE): `check` says so before any call, the commands are parked with that reason and /healthz tells
 * the admin to switch to app mode; after the switch and a restart they go out, once.
 */

let rig: Rig | undefined;
let appBridge: Bridge | undefined;
afterEach(async () => {
  await appBridge?.stop(1000);
  await rig?.close();
  rig = appBridge = undefined;
});

it('is found by check first, parks the refused commands with the advice, and sends them once app mode is on', async () => {
  rig = await startRig({
    portal: { app: APP, refuseWebhookTelephony: true },
    config: () => ({ users: { extensions: { '101': 11, '102': 12, '103': 13 }, refreshIntervalSec: 0 } }),
  });
  const dir = tempDir();
  const file = join(dir, 'config.yaml');
  writeFileSync(file, stringify({ asterisk: { ami: { host: rig.pbx.host, port: rig.pbx.port, username: 'bridge', secret: 'ami-secret' } }, bitrix: { webhookUrl: rig.portal.webhookUrl, defaultUserId: 1 }, state: { dir: join(dir, 'state') } }));
  const lines: string[] = [];
  expect(await runCheck(file, {}, (l) => lines.push(l))).toBe(false);
  expect(lines).toContain('FAIL telephony: this portal refuses webhooks for telephony: set bitrix.auth.mode: app (see the admin guide), restart, and the parked commands go out');

  await rig.pbx.replay(asTrace(replayEvents('support_ringall_answer')));
  await waitFor(() => rig!.bridge.outbox.parkedEntries().some((p) => p.method === 'telephony.externalcall.finish'), 'the finish parked');
  const parked = rig.bridge.outbox.parkedEntries();
  expect(parked.find((p) => p.kind === 'register')?.error).toMatch(/^WRONG_AUTH_TYPE: Current authorization type is denied for this method/);
  expect(rig.portal.calls.size).toBe(0);
  const health = await fetch(`${rig.base}/healthz`);
  expect(health.status).toBe(503);
  expect(((await health.json()) as { problems: Array<{ kind: string; text: string }> }).problems).toContainEqual(
    expect.objectContaining({ kind: 'authType', text: expect.stringContaining('set bitrix.auth.mode: app') }),
  );

  // The admin switches to app mode, authorises, and restarts on the same state.
  await rig.stopBridge();
  const appConfig = parseConfig({
    ...JSON.parse(JSON.stringify(rig.config)),
    bitrix: { auth: { mode: 'app' }, app: { ...APP, portalUrl: rig.portal.url, oauthUrl: rig.portal.oauthUrl }, defaultUserId: 1 },
  });
  await authorise({ ...rig, config: appConfig } as Rig);
  appBridge = await startBridge(appConfig, { logger: silentLogger });
  await waitFor(() => rig!.portal.calls.size === 1 && [...rig!.portal.calls.values()][0]!.finished, 'the call sent in app mode', 20_000);
  expect([...rig.portal.calls.values()][0]).toMatchObject({ finishedBy: 12 });
  expect(appBridge.outbox.parkedEntries()).toEqual([]);
  expect(rig.portal.commands.filter((c) => c.method === 'telephony.externalcall.register' && c.ok).map((c) => c.authType)).toEqual(['app']);
});
