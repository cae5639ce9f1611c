import { afterEach, expect, it } from 'vitest';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { DEMO_CRM, DEMO_USERS } from '../../src/demo/scenarios.js';
import { startAmiSimulator, type AmiSimulator } from '../../src/sim/ami-simulator.js';
import { startBitrixEmulator, type BitrixEmulator } from '../../src/sim/bitrix-emulator.js';
import { APP } from '../support/app-rig.js';
import { runCli, startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { tempDir } from '../support/tmp.js';
import { asTrace, replayEvents, startingNow } from '../support/trace-replay.js';
import { waitFor } from '../support/wait.js';

/**
 * The daemon as a process, killed with SIGKILL right after Bitrix24 rotated its tokens: the new pair was written
 * before it was used, so the restarted daemon goes on with it and never presents the spent refresh token.
 */

let portal: BitrixEmulator | undefined;
let pbx: AmiSimulator | undefined;
const daemons: DaemonProcess[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop('SIGKILL');
  await pbx?.close();
  await portal?.close();
  portal = pbx = undefined;
});

it('survives kill -9 right after a refresh: the new pair is used after the restart, the old one never again', async () => {
  portal = await startBitrixEmulator({ users: DEMO_USERS, crm: DEMO_CRM, app: APP, refuseWebhookTelephony: true });
  pbx = await startAmiSimulator({ username: 'bridge', secret: 'ami-secret' });
  const dir = tempDir();
  const config = {
    asterisk: { ami: { host: pbx.host, port: pbx.port, username: 'bridge', secret: 'ami-secret', reconnect: { initialDelayMs: 200, maxDelayMs: 400 } } },
    bitrix: { auth: { mode: 'app' }, app: { ...APP, portalUrl: portal.url, oauthUrl: portal.oauthUrl }, defaultUserId: 1 },
    users: { extensions: { '101': 11, '102': 12, '103': 13 }, refreshIntervalSec: 0 },
    http: { host: '127.0.0.1', port: 0 },
    state: { dir: join(dir, 'state') },
    recordings: { enabled: false },
    log: { level: 'debug', format: 'json' },
  };
  const file = join(dir, 'config.yaml');
  writeFileSync(file, stringify(config));
  const authorised = await runCli(['auth', '--config', file, '--code', portal.authorizationCode()]);
  expect(authorised.output).toMatch(/^PASS authorised on /m);

  const first = startDaemon(config);
  daemons.push(first);
  await waitFor(() => pbx!.sessions.some((s) => s.open && s.loggedIn), 'the daemon logged in to AMI', 15_000);
  portal.expireAccessTokens();
  // Dated today, as on a live PBX: a register the kill may have let through is repeated only within Bitrix24's
  // 30 minutes of its CALL_START_DATE (a recorded date from weeks ago would rightly be parked instead).
  await pbx.replay(asTrace(startingNow(replayEvents('caller_abandon'))));
  // Killed as soon as the daemon has the new pair (it logs the renewal after writing it).
  await waitFor(() => portal!.oauth.refreshes === 1 && first.output().includes('Bitrix24 access token renewed'), 'the refresh', 15_000);
  await first.stop('SIGKILL');
  const spent = portal.oauth.requests.length;

  const second = startDaemon(config);
  daemons.push(second);
  await waitFor(() => pbx!.sessions.some((s) => s.open && s.loggedIn) && second.output().includes('asterisk-b24-bridge started'), 'the restarted daemon', 15_000);
  await pbx.replay(asTrace(startingNow(replayEvents('support_ringall_answer'))));
  await waitFor(() => [...portal!.calls.values()].filter((c) => c.finished).length === 2, 'both calls finished', 20_000);
  // No refresh and no refusal at the authorization server after the restart: the stored access token still works.
  expect(portal.oauth.requests.slice(spent)).toEqual([]);
  const appAuth = portal.requests.flatMap((r) => (r.auth?.type === 'app' ? [r.auth] : []));
  // The pair issued by the refresh (serial 2: 1 was the code's) is the one in use after the restart.
  expect(appAuth.at(-1)).toMatchObject({ tokenSerial: 2, superseded: false, outcome: 'ok' });
  // After the refresh no request presented the old access token (serial 1) again.
  const refreshedAt = appAuth.findIndex((a) => a.tokenSerial === 2);
  expect(refreshedAt).toBeGreaterThan(0);
  expect(appAuth.slice(refreshedAt).filter((a) => a.tokenSerial !== 2)).toEqual([]);
  for (const out of [first.output(), second.output()]) {
    expect(out.length).toBeGreaterThan(0);
    expect(out).not.toContain(APP.clientSecret);
  }
});
