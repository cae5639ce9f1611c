import { expect, it } from 'vitest';
import { setupAppMode } from '../../src/app/app-mode.js';
import { createAddressMatcher } from '../../src/http/auth.js';
import { APP } from '../support/app-rig.js';
import { silentLogger } from '../support/logger.js';

/** A refresh token not used for long is flagged in /healthz well before its 180 days run out; a used one is not. */
it('flags an unused refresh token 30 days before it expires, and not before', () => {
  const day = 24 * 3600 * 1000;
  let now = Date.UTC(2026, 0, 1);
  const app = setupAppMode({
    app: { ...APP, portalUrl: 'https://portal.example', events: 'offline', eventsPollMs: 2000 },
    installPath: '/bitrix/install',
    db: undefined,
    clock: () => now,
    timeoutMs: 1000,
    logger: silentLogger,
    allow: createAddressMatcher([]),
  });
  expect(app.problems()).toEqual([expect.objectContaining({ kind: 'auth', degrading: true })]);
  app.auth.install({ accessToken: 'a', refreshToken: 'r', expiresInSec: 3600, clientEndpoint: 'https://portal.example/rest/', domain: 'portal.example', memberId: 'm' });
  expect(app.problems()).toEqual([]);
  now += 149 * day;
  expect(app.problems()).toEqual([]);
  now += 2 * day;
  expect(app.problems()).toEqual([
    { kind: 'authAging', degrading: false, text: expect.stringMatching(/^the application's refresh token has not been used for long and expires on 2026-06-30/) },
  ]);
});
