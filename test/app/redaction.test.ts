import { expect, it } from 'vitest';
import { APP } from '../support/app-rig.js';
import { captureDaemonLogger } from '../support/logger.js';

/** Application mode's secrets never reach a log line, whatever object carries them; the line itself is written. */
it('redacts the client secret and the OAuth tokens wherever they appear in a logged object or string', () => {
  const { logger, lines, text } = captureDaemonLogger('info');
  const tokens = { accessToken: 'acc-1111111111', refreshToken: 'ref-2222222222', applicationToken: 'app-3333333333' };
  logger.info({ config: { bitrix: { app: { ...APP } } }, tokens, grant: { access_token: 'acc-4444444444', refresh_token: 'ref-5555555555' } }, 'app state');
  logger.warn({ url: `https://oauth.example/oauth/token/?grant_type=refresh_token&client_id=${APP.clientId}&client_secret=${APP.clientSecret}&refresh_token=ref-6666666666` }, 'a URL in a string');
  expect(lines().map((l) => l['msg'])).toEqual(['app state', 'a URL in a string']);
  expect(text()).toContain(APP.clientId);
  for (const secret of [APP.clientSecret, ...Object.values(tokens), 'acc-4444444444', 'ref-5555555555', 'ref-6666666666']) expect(text()).not.toContain(secret);
});
