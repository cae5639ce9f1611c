import { afterAll, afterEach, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runCheck } from '../../src/daemon/check.js';
import { startAmiSimulator, type AmiSimulator } from '../../src/sim/ami-simulator.js';
import { startBitrixEmulator, type BitrixEmulator } from '../../src/sim/bitrix-emulator.js';
import { DEMO_USERS } from '../../src/demo/scenarios.js';
import { runCli } from '../support/daemon-process.js';
import { APP } from '../support/app-rig.js';
import { removeTempDirs, tempDir } from '../support/tmp.js';

/** `check` in app mode: one line each for the tokens, the scopes and how offline events can be read; no secret printed. */

let portal: BitrixEmulator | undefined;
let pbx: AmiSimulator | undefined;
afterEach(async () => {
  await pbx?.close();
  await portal?.close();
  portal = pbx = undefined;
});
afterAll(removeTempDirs);

async function configFile(o: { offlineExtended: boolean }): Promise<string> {
  portal = await startBitrixEmulator({ users: DEMO_USERS, app: APP, refuseWebhookTelephony: true, offlineExtended: o.offlineExtended });
  pbx = await startAmiSimulator({ username: 'bridge', secret: 'ami-secret' });
  const dir = tempDir();
  const file = join(dir, 'config.yaml');
  const config = {
    asterisk: { ami: { host: pbx.host, port: pbx.port, username: 'bridge', secret: 'ami-secret' } },
    bitrix: { auth: { mode: 'app' }, app: { ...APP, portalUrl: portal.url, oauthUrl: portal.oauthUrl }, defaultUserId: 1 },
    state: { dir: join(dir, 'state') },
  };
  writeFileSync(file, stringify(config));
  return file;
}

it.each([
  [true, 'PASS events: offline events are read, started, then cleared (a crash replays an event, never loses it)'],
  [false, 'WARN events: the plan lacks rest_offline_extended: offline events are read and cleared at once, so a crash at the wrong moment can lose a click'],
])('says what to do before the app is authorised, then checks tokens, scopes and offline events (rest_offline_extended: %s)', async (extended, eventsLine) => {
  const file = await configFile({ offlineExtended: extended });
  const before: string[] = [];
  expect(await runCheck(file, {}, (l) => before.push(l))).toBe(false);
  expect(before).toContain('FAIL app: not authorised (not_installed): install the local application on the portal (its install callback reaches http.installPath) or run: asterisk-b24-bridge auth --config FILE');

  const auth = await runCli(['auth', '--config', file, '--code', portal!.authorizationCode()]);
  expect(auth.code).toBe(0);
  const after: string[] = [];
  expect(await runCheck(file, {}, (l) => after.push(l))).toBe(true);
  const host = new URL(portal!.url).host;
  expect(after).toEqual(
    expect.arrayContaining([
      `PASS portal: ${host} answers; scopes telephony, crm, user, im, task`,
      expect.stringMatching(new RegExp(`^PASS app: authorised on ${host.replace(/\./g, '\\.')}; the refresh token is good until \\d{4}-\\d\\d-\\d\\d and renews with use$`)),
      eventsLine,
    ]),
  );
  for (const l of [...before, ...after, auth.output]) expect(l).not.toContain(APP.clientSecret);
});
