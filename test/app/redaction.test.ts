import { expect, it } from 'vitest';
import { createLogger } from '../../src/obs/logger.js';
import { Writable } from 'node:stream';
import { APP } from '../support/app-rig.js';

/** Application mode's secrets never reach a log line, whatever object carries them; the line itself is written. */
it('redacts the client secret and the OAuth tokens wherever they appear in a logged object or string', () => {
  let out = '';
  const destination = new Writable({ write: (c: Buffer, _e, done) => ((out += c.toString()), done()) });
  const logger = createLogger({ level: 'info', format: 'json', destination: destination as never });
  const tokens = { accessToken: 'acc-1111111111', refreshToken: 'ref-2222222222', applicationToken: 'app-3333333333' };
  logger.info({ config: { bitrix: { app: { ...APP } } }, tokens, grant: { access_token: 'acc-4444444444', refresh_token: 'ref-5555555555' } }, 'app state');
  logger.warn({ url: `https://oauth.example/oauth/token/?grant_type=refresh_token&client_id=${APP.clientId}&client_secret=${APP.clientSecret}&refresh_token=ref-6666666666` }, 'a URL in a string');
  const lines = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(lines.map((l) => l['msg'])).toEqual(['app state', 'a URL in a string']);
  expect(out).toContain(APP.clientId);
  for (const secret of [APP.clientSecret, ...Object.values(tokens), 'acc-4444444444', 'ref-5555555555', 'ref-6666666666']) expect(out).not.toContain(secret);
});
