/**
 * Bitrix24 REST client: one HTTP POST per call or batch, through the local leaky bucket first, envelopes turned
 * into results or classified BitrixErrors. Authorised by an inbound webhook or by a local application's OAuth
 * token (src/bitrix/auth/): the only difference on the wire is the base URL and an `auth` parameter.
 *
 * It never retries a request the portal may have executed (got `retry.limit: 0`): retries have one owner, the
 * outbox, because `telephony.externalcall.register` is not idempotent and a hidden second attempt would register
 * a second call. The one exception is safe by construction: a request refused with expired_token was not
 * executed, so it is sent once more after the token is renewed.
 *
 * The webhook URL and the tokens are secrets, so only method names are logged and every text that could echo
 * them is scrubbed before it reaches an error or a log line.
 */
import defaultGot, { type Got } from 'got';
import { credentialsFor, isRenewable } from './auth-refusals.js';
import { assertBatchKey, assertMethodName, buildBatchCommand } from './encode.js';
import { batchOutcome, networkFailure, parseEnvelope, type BatchOutcome } from './envelope.js';
import { BitrixError, createBitrixError, isQueryLimitExceeded, type BitrixErrorCode } from './errors.js';
import { acquire, type LeakyBucket } from './limiter.js';
import type { RestAuth, RestCredentials } from './auth/rest-auth.js';
import { webhookAuth } from './auth/webhook-auth.js';

export { redactWebhookUrl } from './auth/webhook-auth.js';
export type { BatchOutcome } from './envelope.js';

/** The subset of a pino logger used here. */
export interface BitrixLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Metrics hook payload, one per HTTP request. `status` is 0 when no response arrived. */
export interface RequestInfo {
  method: string;
  status: number;
  durationMs: number;
  waitedMs: number;
  batchSize?: number;
  errorCode?: BitrixErrorCode;
}

export type BatchCommand = { key: string; method: string; params: Record<string, unknown> };

export interface BitrixClient {
  call<T = unknown>(method: string, params?: Record<string, unknown>): Promise<T>;
  batch(commands: BatchCommand[], opts?: { halt?: boolean }): Promise<BatchOutcome>;
}

export interface BitrixClientOptions {
  /** How requests are authorised; or `webhookUrl` for an inbound webhook. */
  auth?: RestAuth;
  /** `https://portal/rest/{userId}/{code}/`; the trailing slash is added if missing. */
  webhookUrl?: string;
  /** Whole-request timeout; default 15 s (the cloud itself cuts requests at 60 s). */
  timeoutMs?: number;
  limiter: LeakyBucket;
  sleep?: (ms: number) => Promise<void>;
  logger?: BitrixLogger;
  onRequest?: (info: RequestInfo) => void;
  got?: Got;
  /** Monotonic ms clock for durations; default performance.now. */
  now?: () => number;
}

/** The portal's BATCH_MAX_LENGTH; beyond it commands are refused one by one, so we refuse up front. */
export const MAX_BATCH_COMMANDS = 50;
export const DEFAULT_TIMEOUT_MS = 15_000;

const noopLogger: BitrixLogger = { debug() {}, info() {}, warn() {}, error() {} };
const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Blanks every secret the auth holds now (webhook URL fragments, tokens) in a text; longest first. */
function scrubber(auth: RestAuth): (text: string) => string {
  return (text) =>
    auth
      .secrets()
      .filter((secret) => secret !== '')
      .sort((a, b) => b.length - a.length)
      .reduce((acc, secret) => acc.split(secret).join('***'), text);
}

export function createBitrixClient(opts: BitrixClientOptions): BitrixClient {
  const auth = restAuthOf(opts);
  const scrub = scrubber(auth);
  const http = opts.got ?? defaultGot;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const sleep = opts.sleep ?? realSleep;
  const logger = opts.logger ?? noopLogger;
  const now = opts.now ?? (() => performance.now());
  const { limiter } = opts;

  function report(info: RequestInfo): void {
    try {
      opts.onRequest?.(info);
    } catch (err) {
      // A broken metrics hook must not turn a delivered call into a failure (and a duplicate retry).
      logger.warn({ method: info.method, hookError: scrub(String(err)) }, 'bitrix onRequest hook threw');
    }
  }

  async function send(method: string, body: object, batchSize?: number): Promise<unknown> {
    let creds = await credentialsFor(method, () => auth.credentials());
    for (let renewed = false; ; renewed = true) {
      try {
        return await post(method, body, creds, batchSize);
      } catch (err) {
        // Refused, not executed: safe to send again once, with a renewed token.
        if (renewed || !(err instanceof BitrixError) || !isRenewable(err, creds)) throw err;
        const expired = creds.accessToken!;
        creds = await credentialsFor(method, async () => {
          await auth.renew(expired);
          return auth.credentials();
        });
      }
    }
  }

  async function post(method: string, body: object, creds: RestCredentials, batchSize?: number): Promise<unknown> {
    const waitedMs = await acquire(limiter, sleep);
    const started = now();
    let status = 0;
    try {
      const response = await http.post(`${creds.base}${method}`, {
        // The documented way to pass an access token: the `auth` parameter (Bitrix24 REST docs, settings/oauth).
        json: creds.accessToken === undefined ? body : { ...body, auth: creds.accessToken },
        responseType: 'text',
        throwHttpErrors: false,
        // A redirect would resend the body (and the secret) elsewhere; treat it as misconfiguration.
        followRedirect: false,
        retry: { limit: 0 },
        timeout: { request: timeoutMs },
      });
      status = response.statusCode;
      const result = parseEnvelope(method, status, response.body, scrub);
      const durationMs = now() - started;
      logger.debug({ method, status, durationMs, waitedMs, batchSize }, 'bitrix request ok');
      report({ method, status, durationMs, waitedMs, ...(batchSize === undefined ? {} : { batchSize }) });
      return result;
    } catch (err) {
      let error = err instanceof BitrixError ? err : createBitrixError(method, networkFailure(err, scrub));
      error = auth.refusal?.(error) ?? error;
      if (isQueryLimitExceeded(error.code)) limiter.penalize();
      const durationMs = now() - started;
      logger.warn(
        {
          method,
          status,
          durationMs,
          waitedMs,
          batchSize,
          kind: error.kind,
          errorCode: error.errorCode,
          code: error.code,
          description: error.description,
        },
        'bitrix request failed',
      );
      report({
        method,
        status,
        durationMs,
        waitedMs,
        errorCode: error.errorCode,
        ...(batchSize === undefined ? {} : { batchSize }),
      });
      throw error;
    }
  }

  async function call<T = unknown>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    assertMethodName(method);
    return (await send(method, params)) as T;
  }

  async function batch(commands: BatchCommand[], batchOpts: { halt?: boolean } = {}): Promise<BatchOutcome> {
    if (commands.length > MAX_BATCH_COMMANDS) {
      throw new RangeError(`batch of ${commands.length} commands exceeds ${MAX_BATCH_COMMANDS}; split it`);
    }
    if (commands.length === 0) return { results: {}, errors: {} };
    const cmd: Record<string, string> = {};
    const methodByKey = new Map<string, string>();
    for (const command of commands) {
      assertBatchKey(command.key);
      if (methodByKey.has(command.key)) throw new TypeError(`duplicate batch command key ${command.key}`);
      methodByKey.set(command.key, command.method);
      cmd[command.key] = buildBatchCommand(command.method, command.params);
    }
    const raw = await send('batch', { halt: batchOpts.halt ? 1 : 0, cmd }, commands.length);
    const { results, errors } = batchOutcome(raw, methodByKey, scrub);
    logger.debug(
      { method: 'batch', batchSize: commands.length, ok: Object.keys(results).length, failed: Object.keys(errors).length },
      'bitrix batch parsed',
    );
    return { results, errors };
  }

  return { call, batch };
}

function restAuthOf(opts: BitrixClientOptions): RestAuth {
  if (opts.auth) return opts.auth;
  if (opts.webhookUrl !== undefined) return webhookAuth(opts.webhookUrl);
  throw new TypeError('createBitrixClient needs auth or webhookUrl');
}
