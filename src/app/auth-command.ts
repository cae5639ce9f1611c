import { appAuthFromState } from '../bitrix/auth/app-auth-setup.js';
import type { Config } from '../config/schema.js';
import { openStateDb } from '../store/db.js';
import { acceptCode, authorizeUrl } from './authorize.js';
import { newPendingState } from './pending-state.js';

/**
 * `auth --config FILE [--code CODE]`: authorises the application on a bridge Bitrix24 cannot reach. Without a code
 * it prints the authorize URL (and leaves its state for the daemon's redirect handler); with one it exchanges the
 * code and writes the tokens to the state store, where the running daemon picks them up at its next request.
 * It never prints a token or the client secret.
 */
export async function runAuth(config: Config, opts: { code?: string }, print: (line: string) => void): Promise<number> {
  const app = config.bitrix.app;
  if (config.bitrix.auth.mode !== 'app' || app === undefined) {
    print('bitrix.auth.mode is not app: set it (and bitrix.app) first; see the admin guide');
    return 2;
  }
  const db = openStateDb(config.state.dir);
  try {
    if (opts.code === undefined) {
      const url = authorizeUrl(app, newPendingState(db));
      print('Open this address in a browser, logged in to Bitrix24 as an administrator:');
      print(`  ${url}`);
      print(`Bitrix24 then sends the browser to the application's handler path. If that is this bridge (http.installPath, ${config.http.installPath}), it is authorised at once;`);
      print('otherwise copy the code= value from the address bar and run, within 30 seconds:');
      print('  asterisk-b24-bridge auth --config FILE --code CODE');
      return 0;
    }
    const { auth, oauth } = appAuthFromState(app, db, { timeoutMs: config.bitrix.timeoutMs });
    const result = await acceptCode(opts.code, { app, auth, oauth, onAuthorised: () => undefined });
    if (!result.ok) {
      print(`FAIL ${result.message}`);
      return 1;
    }
    print(`PASS authorised on ${result.domain}; the running daemon uses the new tokens from its next request (and binds its events at its next start)`);
    return 0;
  } finally {
    db.close();
  }
}
