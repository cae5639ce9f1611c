import { pino, type Logger, type DestinationStream, type LevelWithSilent } from 'pino';

/**
 * pino with redaction: secrets never reach a log line, whatever object a caller logs.
 * JSON to stdout for journald; pretty only when asked or when stdout is a terminal.
 *
 * Three layers, because each one alone has a gap:
 *  1. REDACT_PATHS (pino's own path redaction): known places, and the only layer that sees a child's bindings
 *     (pino gives those no formatter of ours), e.g. `logger.child({ config })`.
 *  2. redactSecrets (formatters.log): secret-named keys at any depth, so a whole config or a Bitrix24 event
 *     logged as one object is covered too (pino paths cannot say "any depth").
 *  3. scrubLine (hooks.streamWrite): the finished line, so a webhook code or token inside a string
 *     (an error message or stack that echoes a URL, a raw form body) is blanked as well.
 *
 * Measured (Node 20, 200k `info` lines of a typical 6-field call object into a no-op destination): plain pino
 * 2.6 µs/line, with the three layers 8 µs/line. Wildcard paths (`*.secret`, `*.*.secret`...) alone cost 25-28 µs/line
 * and layer 2 covers them anyway: keep the paths static.
 */
export const REDACT_PATHS = [
  'secret',
  'password',
  'webhookUrl',
  'applicationToken',
  'token',
  'auth',
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'params.FILE_CONTENT',
  // The config's own shape, at the top or under `config`.
  'asterisk.ami.secret',
  'asterisk.ari.password',
  'bitrix.webhookUrl',
  'bitrix.applicationToken',
  'crm.lookupToken',
  'transcripts.apiKey',
  'http.statusToken',
  'bitrix.app.clientSecret',
  'config.bitrix.app.clientSecret',
  'config.asterisk.ami.secret',
  'config.asterisk.ari.password',
  'config.bitrix.webhookUrl',
  'config.bitrix.applicationToken',
  'config.crm.lookupToken',
  'config.transcripts.apiKey',
  'config.http.statusToken',
];

export const CENSOR = '[redacted]';

/**
 * Keys whose value is a secret wherever they appear (compared lower-cased). `auth` is the block Bitrix24 puts
 * in every event (application_token, access_token, member_id...); `secret` is the AMI login.
 */
const SECRET_KEYS = new Set([
  'secret',
  'password',
  'passwd',
  'token',
  'webhookurl',
  'applicationtoken',
  'application_token',
  'lookuptoken',
  'statustoken',
  'x-token',
  'x-status-token',
  'access_token',
  'refresh_token',
  'accesstoken',
  'refreshtoken',
  'clientsecret',
  'client_secret',
  'auth',
  'authorization',
  'cookie',
  'file_content',
  'apikey',
  'api_key',
]);

/** Deeper than this a value is replaced by '[too deep]': log objects are small; this bounds a pathological one. */
const MAX_DEPTH = 12;

export type { Logger };

export interface LoggerOptions {
  level: string;
  format: 'auto' | 'json' | 'pretty';
  destination?: DestinationStream;
  /** Told about every warn/error/fatal line, after redaction (the live view's recent errors). */
  onNotice?: (notice: LogNotice) => void;
}

/** A warning or error as written (secrets already out): what the live view lists. */
export interface LogNotice {
  level: 'warn' | 'error' | 'fatal';
  time: number;
  msg: string;
  /** The logged error's message or code, when there is one. */
  detail?: string;
}

export function createLogger(opts: LoggerOptions): Logger {
  const base = {
    level: opts.level,
    redact: { paths: REDACT_PATHS, censor: CENSOR },
    base: { service: 'asterisk-b24-bridge' },
    formatters: { log: (obj: Record<string, unknown>) => redactSecrets(obj) },
    hooks: { streamWrite: opts.onNotice ? noticing(opts.onNotice) : scrubLine },
  };
  if (opts.destination) return pino(base, opts.destination);
  const pretty = opts.format === 'pretty' || (opts.format === 'auto' && process.stdout.isTTY === true);
  if (pretty) return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:standard' } } });
  return pino(base);
}

const LEVEL_NAMES: Record<number, LogNotice['level']> = { 40: 'warn', 50: 'error', 60: 'fatal' };

/**
 * scrubLine, then the finished line read back when it is a warning or worse (a few per minute at most; pino writes
 * `{"level":N,` first, so other lines cost one regex and are never parsed).
 */
function noticing(onNotice: (n: LogNotice) => void): (line: string) => string {
  return (line) => {
    const out = scrubLine(line);
    const level = LEVEL_NAMES[Number(/^\{"level":(\d+)/.exec(out)?.[1])];
    if (level === undefined) return out;
    try {
      const o = JSON.parse(out) as { time?: number; msg?: string; err?: { message?: string }; code?: unknown; reason?: unknown };
      const detail = o.err?.message ?? (typeof o.code === 'string' ? o.code : typeof o.reason === 'string' ? o.reason : undefined);
      onNotice({ level, time: o.time ?? Date.now(), msg: String(o.msg ?? ''), ...(detail ? { detail: detail.split('\n')[0]!.slice(0, 300) } : {}) });
    } catch {
      // Not ours to break logging over: a line that is not JSON is simply not listed.
    }
    return out;
  };
}

/** The logger of one call: every line carries its linkedid (and CALL_ID once Bitrix24 gave one). */
export function callLogger(logger: Logger, call: { linkedid: string; callId?: string }): Logger {
  return logger.child(call.callId === undefined ? { linkedid: call.linkedid } : { linkedid: call.linkedid, callId: call.callId });
}

/**
 * Changes the level live (SIGHUP). Child loggers created without their own `level` inherit it through
 * pino's prototype chain, so the per-part and per-call children follow without being tracked.
 */
export function setLevel(logger: Logger, level: LevelWithSilent): void {
  logger.level = level;
}

/** Copy of obj with secret-named keys censored at any depth. Never mutates what the caller logged. */
export function redactSecrets<T>(obj: T): T {
  return redactValue(obj, 0, new Map()) as T;
}

const isSecretKey = (key: string, value: unknown): boolean => SECRET_KEYS.has(key.toLowerCase()) && value !== undefined && value !== null;

/**
 * Plain objects, arrays and errors are copied (memo: an object seen twice, or a cycle, maps to its one copy).
 * Other class instances (Date, Buffer, URL...) are left to their own toJSON and to layer 3.
 */
function redactValue(value: unknown, depth: number, memo: Map<object, unknown>): unknown {
  if (value === null || typeof value !== 'object') return value;
  const done = memo.get(value);
  if (done !== undefined) return done;
  if (depth > MAX_DEPTH) return '[too deep]';
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    memo.set(value, copy);
    for (const item of value) copy.push(redactValue(item, depth + 1, memo));
    return copy;
  }
  if (value instanceof Error) return redactError(value, depth, memo);
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const copy: Record<string, unknown> = {};
  memo.set(value, copy);
  for (const [key, item] of Object.entries(value)) copy[key] = isSecretKey(key, item) ? CENSOR : redactValue(item, depth + 1, memo);
  return copy;
}

/** An error's own fields (e.g. `options` of an HTTP error) may hold secrets; message and stack go through scrubLine. */
function redactError(err: Error, depth: number, memo: Map<object, unknown>): Error {
  // Same prototype, so pino's err serializer still sees the same type, message, stack and cause.
  const copy = Object.create(Object.getPrototypeOf(err) as object) as Error;
  memo.set(err, copy);
  const hidden = (value: unknown) => ({ value, enumerable: false, writable: true, configurable: true });
  Object.defineProperty(copy, 'message', hidden(err.message));
  Object.defineProperty(copy, 'stack', hidden(err.stack));
  if ('cause' in err) Object.defineProperty(copy, 'cause', hidden(redactValue(err.cause, depth + 1, memo)));
  for (const [key, item] of Object.entries(err)) {
    (copy as unknown as Record<string, unknown>)[key] = isSecretKey(key, item) ? CENSOR : redactValue(item, depth + 1, memo);
  }
  return copy;
}

/**
 * Secrets inside strings: the Bitrix24 webhook code (`/rest/<user>/<code>`), token-like query or form
 * parameters (`auth[application_token]=...`, `access_token=...`, URL-encoded or not) and `user:pass@` in URLs.
 */
const LINE_SCRUBBERS: Array<[RegExp, string]> = [
  [/(\/rest\/\d+\/)[A-Za-z0-9_-]{4,}/g, '$1***'],
  // `\\":\\"` is JSON inside a logged string (a raw body); plain JSON keys were already censored by layer 2.
  [/((?:application_token|access_token|refresh_token|applicationToken|secret|password|token)(?:%5D|\])?(?:=|%3D|\\":\\"))(?!\*\*\*)[^&\s"\\]+/gi, '$1***'],
  [/(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@"]+:[^\s/@"]+@/gi, '$1***@'],
];

export function scrubLine(line: string): string {
  let out = line;
  for (const [pattern, replacement] of LINE_SCRUBBERS) out = out.replace(pattern, replacement);
  return out;
}
