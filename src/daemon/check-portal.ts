import { appAuthFromState } from '../bitrix/auth/app-auth-setup.js';
import { featureEnabled } from '../app/offline-events.js';
import { REFRESH_TOKEN_WARN_MS } from '../bitrix/auth/tokens.js';
import type { RestAuth } from '../bitrix/auth/rest-auth.js';
import { redactWebhookUrl, webhookAuth } from '../bitrix/auth/webhook-auth.js';
import { createBitrixClient, type BitrixClient } from '../bitrix/client.js';
import { BitrixError } from '../bitrix/errors.js';
import { LeakyBucket } from '../bitrix/limiter.js';
import type { Config } from '../config/schema.js';
import { openStateDb } from '../store/db.js';
import { WRONG_AUTH_TYPE_ADVICE } from './health.js';

/**
 * `check`'s portal lines, per auth mode. Webhook: the scopes, then a harmless probe through the same gate as
 * register/finish (telephony.externalLine.get), so a portal that refuses webhooks for telephony is found before any
 * call. App: the tokens (present, alive, not about to expire), the scopes, and how offline events can be read.
 */

export interface CheckLine {
  ok: boolean;
  line: string;
}

const NEEDED_SCOPES = ['telephony', 'crm', 'user'];

export async function checkPortal(config: Config): Promise<CheckLine[]> {
  return config.bitrix.auth.mode === 'app' ? checkApp(config) : checkWebhook(config);
}

async function checkWebhook(config: Config): Promise<CheckLine[]> {
  const url = config.bitrix.webhookUrl!;
  const client = checkClient(webhookAuth(url));
  const where = redactWebhookUrl(url);
  const scopes = await scopeLine(client, where, 'the webhook');
  if (!scopes.ok) return [scopes];
  try {
    await client.call('telephony.externalLine.get');
    return [scopes, { ok: true, line: 'PASS telephony: the portal accepts this webhook for telephony.externalcall.register/finish' }];
  } catch (err) {
    if (err instanceof BitrixError && err.errorCode === 'WRONG_AUTH_TYPE') return [scopes, { ok: false, line: `FAIL telephony: ${WRONG_AUTH_TYPE_ADVICE}` }];
    return [scopes, { ok: false, line: `FAIL telephony: ${(err as Error).message}` }];
  }
}

async function checkApp(config: Config): Promise<CheckLine[]> {
  const app = config.bitrix.app!;
  let db: ReturnType<typeof openStateDb>;
  try {
    db = openStateDb(config.state.dir);
  } catch (err) {
    return [{ ok: false, line: `FAIL app: the tokens live in the state store, which cannot be opened: ${(err as Error).message}` }];
  }
  try {
    // The daemon's own token store: a refresh made here is written there, and the daemon adopts the newer pair.
    const { auth } = appAuthFromState(app, db, { timeoutMs: 10_000 });
    const status = auth.status();
    if (status.state === 'required') return [{ ok: false, line: `FAIL app: not authorised (${status.reason}): ${status.advice}` }];
    const lines: CheckLine[] = [];
    const client = checkClient(auth);
    const scopes = await scopeLine(client, status.domain, 'the application');
    lines.push(scopes);
    if (!scopes.ok) return lines;
    const expires = new Date(status.refreshTokenExpiresAt).toISOString().slice(0, 10);
    lines.push(
      status.refreshTokenExpiresAt - Date.now() < REFRESH_TOKEN_WARN_MS
        ? { ok: false, line: `FAIL app: the refresh token expires on ${expires} unless the bridge makes a request before; run asterisk-b24-bridge auth --config FILE` }
        : { ok: true, line: `PASS app: authorised on ${status.domain}; the refresh token is good until ${expires} and renews with use` },
    );
    if (app.events === 'offline') lines.push(await offlineLine(client));
    return lines;
  } finally {
    db.close();
  }
}

/** One request at a time, well within the portal's limits: check makes a handful. */
function checkClient(auth: RestAuth): BitrixClient {
  return createBitrixClient({ auth, timeoutMs: 10_000, limiter: new LeakyBucket({ perSecond: 2, burst: 50 }) });
}

async function scopeLine(client: BitrixClient, where: string, who: string): Promise<CheckLine> {
  try {
    const scopes = await client.call<string[]>('scope');
    const missing = NEEDED_SCOPES.filter((s) => !scopes.includes(s));
    if (missing.length > 0) return { ok: false, line: `FAIL portal: ${where} answers but ${who} lacks scopes: ${missing.join(', ')}` };
    return { ok: true, line: `PASS portal: ${where} answers; scopes ${scopes.join(', ')}` };
  } catch (err) {
    return { ok: false, line: `FAIL portal: ${where}: ${(err as Error).message}` };
  }
}

async function offlineLine(client: BitrixClient): Promise<CheckLine> {
  try {
    // The daemon's own reading of the answer (src/app/offline-events.ts): check says what the daemon will do.
    if (featureEnabled(await client.call<unknown>('feature.get', { CODE: 'rest_offline_extended' }))) return { ok: true, line: 'PASS events: offline events are read, started, then cleared (a crash replays an event, never loses it)' };
    return { ok: true, line: 'WARN events: the plan lacks rest_offline_extended: offline events are read and cleared at once, so a crash at the wrong moment can lose a click' };
  } catch (err) {
    return { ok: false, line: `FAIL events: feature.get: ${(err as Error).message}` };
  }
}
