import { afterEach, describe, expect, it } from 'vitest';
import type { StatusSnapshot } from '../../src/status/types.js';
import { APP, authorise, startAppRig } from '../support/app-rig.js';
import type { Rig } from '../support/rig.js';
import { waitForAsync } from '../support/wait.js';

/** The live view of a bridge in application mode: the application's authorisation, and never its secrets. */

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

async function status(r: Rig): Promise<{ text: string; s: StatusSnapshot }> {
  const res = await fetch(`${r.base}/status.json`);
  expect(res.status).toBe(200);
  const text = await res.text();
  return { text, s: JSON.parse(text) as StatusSnapshot };
}

describe('the live view in application mode', () => {
  it('says the application is not authorised, then authorised with its refresh token\'s expiry; no token or secret shown', async () => {
    rig = await startAppRig();
    const before = await status(rig);
    expect(before.s.portal.mode).toBe('app');
    expect(before.s.portal.token).toMatchObject({ state: 'required' });
    await authorise(rig);
    const after = await waitForAsync(async () => {
      const r = await status(rig!);
      return r.s.portal.token?.state === 'authorised' ? r : undefined;
    }, 'the application authorised on the page', 10_000);
    const token = after.s.portal.token as { state: 'authorised'; refreshTokenExpiresAt: number };
    // Bitrix24's refresh tokens live 180 days (docs/reference): the expiry is that far ahead.
    expect(token.refreshTokenExpiresAt - Date.now()).toBeGreaterThan(170 * 86_400_000);
    expect(Object.keys(token).sort()).toEqual(['refreshTokenExpiresAt', 'state']);
    for (const text of [before.text, after.text]) expect(text).not.toContain(APP.clientSecret);
  }, 60_000);
});
