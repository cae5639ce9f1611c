import { expect, it } from 'vitest';
import { runCheck } from '../../src/daemon/check.js';
import { runCli } from '../support/daemon-process.js';
import { APP } from '../support/app-rig.js';
import { processRigPerTest } from '../support/process-rig.js';

/** `check` in app mode: one line each for the tokens, the scopes and how offline events can be read; no secret printed. */

const { start, portal } = processRigPerTest();

async function configFile(o: { offlineExtended: boolean }): Promise<string> {
  const rig = await start({ portal: { app: APP, refuseWebhookTelephony: true, offlineExtended: o.offlineExtended } });
  return rig.configFile({ bitrix: { webhookUrl: undefined, auth: { mode: 'app' }, app: { ...APP, portalUrl: rig.portal.url, oauthUrl: rig.portal.oauthUrl } } });
}

it.each([
  [true, 'PASS events: offline events are read, started, then cleared (a crash replays an event, never loses it)'],
  [false, 'WARN events: the plan lacks rest_offline_extended: offline events are read and cleared at once, so a crash at the wrong moment can lose a click'],
])('says what to do before the app is authorised, then checks tokens, scopes and offline events (rest_offline_extended: %s)', async (extended, eventsLine) => {
  const file = await configFile({ offlineExtended: extended });
  const before: string[] = [];
  expect(await runCheck(file, {}, (l) => before.push(l))).toBe(false);
  expect(before).toContain('FAIL app: not authorised (not_installed): install the local application on the portal (its install callback reaches http.installPath) or run: asterisk-b24-bridge auth --config FILE');

  const auth = await runCli(['auth', '--config', file, '--code', portal().authorizationCode()]);
  expect(auth.code).toBe(0);
  const after: string[] = [];
  expect(await runCheck(file, {}, (l) => after.push(l))).toBe(true);
  const host = new URL(portal().url).host;
  expect(after).toEqual(
    expect.arrayContaining([
      `PASS portal: ${host} answers; scopes telephony, crm, user, im, task`,
      expect.stringMatching(new RegExp(`^PASS app: authorised on ${host.replace(/\./g, '\\.')}; the refresh token is good until \\d{4}-\\d\\d-\\d\\d and renews with use$`)),
      eventsLine,
    ]),
  );
  for (const l of [...before, ...after, auth.output]) expect(l).not.toContain(APP.clientSecret);
});
