import { afterEach, describe, expect, it } from 'vitest';
import { runCli, writeConfig } from '../support/daemon-process.js';
import { buildQuery } from '../../src/sim/bitrix/php-form.js';
import { startAppRig } from '../support/app-rig.js';
import { freePort } from '../support/ports.js';
import type { Rig } from '../support/rig.js';
import { waitFor } from '../support/wait.js';

/**
 * The install callback (ONAPPINSTALL) and the OAuth redirect: every check runs before anything is stored, and a
 * refused install leaves the bridge exactly as it was.
 */

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

async function onlineRig(o: { domain?: string } = {}): Promise<Rig> {
  const port = await freePort();
  return startAppRig({
    events: 'online',
    ...o,
    config: () => ({ http: { port }, bitrix: { app: { handlerUrl: `http://127.0.0.1:${port}/bitrix/events` } } }),
  });
}

const installForm = (auth: Record<string, string>) => buildQuery({ event: 'ONAPPINSTALL', data: { VERSION: '1', ACTIVE: 'Y', INSTALLED: 'Y', LANGUAGE_ID: 'en' }, ts: 1, auth });
const post = (url: string, body: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });

describe('the install callback', () => {
  it('stores the pair once it is proven to be this application\'s, binds the events online, and then a click rings', async () => {
    rig = await onlineRig();
    const install = await rig.portal.installApp(`${rig.base}/bitrix/install`);
    expect(install.status).toBe(200);
    expect(rig.bridge.health().problems.some((p) => p.kind === 'auth')).toBe(false);
    // The install's refresh token was redeemed once with our client credentials: that is the proof.
    expect(rig.portal.oauth.refreshes).toBe(1);
    await waitFor(() => rig!.portal.bindings.length === 2, 'the online bindings');
    expect(rig.portal.bindings.map((b) => [b.event, b.handler])).toEqual([
      ['ONEXTERNALCALLSTART', `${rig.base}/bitrix/events`],
      ['ONEXTERNALCALLBACKSTART', `${rig.base}/bitrix/events`],
    ]);
    const click = await rig.portal.clickToCall({ userId: 11, phoneNumber: '5559876' });
    expect(click.deliveries).toEqual([expect.objectContaining({ kind: 'online', status: 200 })]);
    const originate = await rig.pbx.waitForAction('Originate', undefined, 10_000);
    expect(originate['Variable']).toContain(`__B24_CALL_ID=${click.callId}`);
  });

  it('refuses an install for another portal and stores nothing', async () => {
    rig = await onlineRig({ domain: 'other.bitrix24.ru' });
    const install = await rig.portal.installApp(`${rig.base}/bitrix/install`);
    expect(install.status).toBe(403);
    expect(rig.bridge.health().problems).toContainEqual(expect.objectContaining({ kind: 'auth', text: expect.stringContaining('not_installed') }));
    expect(rig.portal.oauth.refreshes).toBe(0);
    expect(rig.portal.bindings).toEqual([]);
  });

  it.each([
    ['tokens that are not this application\'s', (a: Record<string, string>) => ({ ...a, access_token: 'forged-access', refresh_token: 'forged-refresh' }), /not this application's/],
    ['another REST endpoint', (a: Record<string, string>) => ({ ...a, client_endpoint: 'https://evil.example/rest/' }), /REST endpoint is not on bitrix\.app\.portalUrl/],
    ['no application_token', (a: Record<string, string>) => Object.fromEntries(Object.entries(a).filter(([k]) => k !== 'application_token')), /auth\[application_token\]/],
  ])('refuses an install with %s and stores nothing', async (_what, forge, message) => {
    rig = await onlineRig();
    const real = rig.portal.issueAppTokens();
    const auth = {
      domain: real.domain,
      member_id: real.memberId,
      access_token: real.accessToken,
      refresh_token: real.refreshToken,
      expires_in: '3600',
      application_token: real.applicationToken,
      client_endpoint: `${rig.portal.url}/rest/`,
      server_endpoint: `${rig.portal.oauthUrl}/rest/`,
      status: 'L',
    };
    const res = await post(`${rig.base}/bitrix/install`, installForm(forge(auth)));
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(((await res.json()) as { message: string }).message).toMatch(message);
    expect(rig.bridge.health().problems).toContainEqual(expect.objectContaining({ kind: 'auth', text: expect.stringContaining('not_installed') }));
  });

  it('refuses a second install from another installation (member_id) once one is known', async () => {
    rig = await onlineRig();
    expect((await rig.portal.installApp(`${rig.base}/bitrix/install`)).status).toBe(200);
    const real = rig.portal.issueAppTokens();
    const res = await post(
      `${rig.base}/bitrix/install`,
      installForm({ domain: real.domain, member_id: 'f'.repeat(32), access_token: real.accessToken, refresh_token: real.refreshToken, application_token: 'other', client_endpoint: `${rig.portal.url}/rest/`, expires_in: '3600' }),
    );
    expect(res.status).toBe(403);
    expect(((await res.json()) as { message: string }).message).toMatch(/member_id differs/);
  });

  it('refuses online events that do not carry the installation\'s application token and member_id', async () => {
    rig = await onlineRig();
    expect((await rig.portal.installApp(`${rig.base}/bitrix/install`)).status).toBe(200);
    const data = { CALL_ID: 'externalCall.0123456789abcdef0123456789abcdef.1796616211', USER_ID: '11', PHONE_NUMBER: '5559876' };
    const token = rig.portal.applicationToken;
    const { memberId, domain } = rig.portal.issueAppTokens();
    const send = (auth: Record<string, string>) => post(`${rig!.base}/bitrix/events`, buildQuery({ event: 'ONEXTERNALCALLSTART', data, ts: 1, auth }));
    expect((await send({ domain, member_id: memberId, application_token: 'wrong' })).status).toBe(401);
    expect((await send({ domain, member_id: 'f'.repeat(32), application_token: token })).status).toBe(401);
    expect(rig.pbx.received.filter((a) => a['Action'] === 'Originate')).toEqual([]);
    expect((await send({ domain, member_id: memberId, application_token: token })).status).toBe(200);
    await rig.pbx.waitForAction('Originate', undefined, 5_000);
  });
});

describe('the OAuth redirect (auth, then the browser comes back to the bridge)', () => {
  it('authorises with the state `auth` printed, once; a redirect without it is refused and changes nothing', async () => {
    rig = await onlineRig();
    rig.portal.setAppHandlerUrl(`${rig.base}/bitrix/install`);
    const forged = await fetch(`${rig.base}/bitrix/install?code=${rig.portal.authorizationCode()}&state=guess`);
    expect(forged.status).toBe(403);
    expect(rig.portal.oauth.codeExchanges).toBe(0);

    // `auth` as a process of its own, as the admin runs it beside the daemon.
    const printed = await runCli(['auth', '--config', writeConfig(JSON.parse(JSON.stringify(rig.config)) as Record<string, unknown>)]);
    expect(printed.code).toBe(0);
    const authorizeUrl = printed.output.split('\n').find((l) => l.includes('/oauth/authorize/'))!.trim();
    // The admin's browser: Bitrix24's authorize page redirects to the application's handler path, the bridge.
    const redirect = await fetch(authorizeUrl, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const back = await fetch(redirect.headers.get('location')!);
    expect(back.status).toBe(200);
    expect(await back.text()).toContain('asterisk-b24-bridge is authorised');
    expect(rig.portal.oauth.codeExchanges).toBe(1);
    await waitFor(() => rig!.portal.bindings.length === 2, 'the bindings after the authorisation');
    // The same redirect again is refused: the state was used.
    expect((await fetch(redirect.headers.get('location')!)).status).toBe(403);
  });
});
