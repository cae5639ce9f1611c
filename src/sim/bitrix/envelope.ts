/**
 * Response envelopes (docs/reference/bitrix24-rest.md#success-envelope, #error-envelope): success
 * `{result, [next], [total], time}` and error `{error, error_description}` without `time`.
 */

/**
 * A REST error with its HTTP status; `extra` keys are appended to the body
 * (docs/reference/bitrix24-rest.md#error-envelope).
 */
export class RestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly description: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(description);
    this.name = 'RestError';
  }

  body(): ErrorBody {
    return { error: this.code, error_description: this.description, ...this.extra };
  }
}

export interface ErrorBody {
  error: string;
  error_description: string;
  [extra: string]: unknown;
}

/** What a method handler produces; list methods add `total`/`next` (docs/reference/bitrix24-rest.md#list-methods). */
export interface MethodReply {
  result: unknown;
  total?: number;
  next?: number;
}

export interface TimeInfo {
  start: number;
  finish: number;
  duration: number;
  processing: number;
  date_start: string;
  date_finish: string;
  operating_reset_at: number;
  operating: number;
}

/** System errors with fixed wire texts (docs/reference/bitrix24-rest.md#system-errors). */
export const systemErrors = {
  invalidCredentials: () => new RestError(401, 'INVALID_CREDENTIALS', 'Invalid request credentials'),
  /** The text names the credential: "webhook token" (apauth) or "access token" (rest/lib/oauth/auth.php). */
  insufficientScope: (by: 'webhook' | 'app' = 'webhook') =>
    new RestError(
      401,
      'insufficient_scope',
      `The request requires higher privileges than provided by the ${by === 'app' ? 'access' : 'webhook'} token`,
    ),
  authorizationError: () => new RestError(401, 'authorization_error', 'Unable to authorize user'),
  // Application (OAuth) auth, source rest/lib/oauth/auth.php and CRestUtil::checkAuth; OAuthException is 401.
  noAuthFound: () => new RestError(401, 'NO_AUTH_FOUND', 'Wrong authorization data'),
  /** Passed through from the authorization server; text as in the oauth2-php lineage (best guess). */
  invalidToken: () => new RestError(401, 'invalid_token', 'The access token provided is invalid.'),
  expiredToken: () => new RestError(401, 'expired_token', 'The access token provided has expired'),
  applicationNotFound: () => new RestError(401, 'APPLICATION_NOT_FOUND', 'Application not found'),
  /** rest/lib/authtypeexception.php. */
  wrongAuthType: () => new RestError(403, 'WRONG_AUTH_TYPE', 'Current authorization type is denied for this method'),
  /** rest/lib/licenseexception.php: MESSAGE, a space, then what is missing. */
  wrongLicense: (what: string) =>
    new RestError(403, 'WRONG_LICENSE', `This feature is not enabled for the current license: ${what}`),
  /** rest/lib/Exceptions/ArgumentException.php: the argument name is appended to the body. */
  argument: (message: string, argument: string) => new RestError(400, 'ERROR_ARGUMENT', message, { argument }),
  argumentNull: (argument: string) =>
    new RestError(400, 'ERROR_ARGUMENT', `Argument '${argument}' is null or empty`, { argument }),
  methodNotFound: () => new RestError(404, 'ERROR_METHOD_NOT_FOUND', 'Method not found!'),
  queryLimitExceeded: () => new RestError(503, 'QUERY_LIMIT_EXCEEDED', 'Too many requests'),
  batchMethodNotAllowed: () =>
    new RestError(405, 'ERROR_BATCH_METHOD_NOT_ALLOWED', 'Method is not allowed for batch usage'),
  batchLengthExceeded: () => new RestError(400, 'ERROR_BATCH_LENGTH_EXCEEDED', 'Max batch length exceeded'),
  accessDenied: (why = '') => new RestError(403, 'ACCESS_DENIED', `Access denied!${why ? ` ${why}` : ''}`),
};

/** Parses '+03:00' / '-0530' / 'Z' into minutes east of UTC. */
export function parseOffset(offset: string): number {
  if (offset === 'Z') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(offset);
  if (!m) throw new Error(`Invalid portal timezone offset: ${offset}`);
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === '-' ? -minutes : minutes;
}

/** PHP `date('c')` in the portal timezone, e.g. 2026-03-10T11:19:38+03:00. */
export function isoWithOffset(ms: number, offsetMinutes: number): string {
  const d = new Date(Math.floor(ms / 1000) * 1000 + offsetMinutes * 60_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}` +
    `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
  );
}

export function timeInfo(startMs: number, finishMs: number, offsetMinutes: number): TimeInfo {
  const seconds = (finishMs - startMs) / 1000;
  return {
    start: startMs / 1000,
    finish: finishMs / 1000,
    duration: seconds,
    processing: seconds,
    date_start: isoWithOffset(startMs, offsetMinutes),
    date_finish: isoWithOffset(finishMs, offsetMinutes),
    // Cloud-only operating counters: the emulator never accumulates any
    // (docs/reference/bitrix24-rest.md#operating-time).
    operating_reset_at: Math.floor(startMs / 1000) + 600,
    operating: 0,
  };
}

/**
 * Per-command timing inside batch `result_time` carries only these six keys
 * (docs/reference/bitrix24-rest.md#batch-response).
 */
export function batchTimeInfo(startMs: number, finishMs: number, offsetMinutes: number) {
  const { start, finish, duration, processing, date_start, date_finish } = timeInfo(startMs, finishMs, offsetMinutes);
  return { start, finish, duration, processing, date_start, date_finish };
}

export function successBody(reply: MethodReply, time: TimeInfo): Record<string, unknown> {
  const body: Record<string, unknown> = { result: reply.result };
  if (reply.next !== undefined) body.next = reply.next;
  if (reply.total !== undefined) body.total = reply.total;
  body.time = time;
  return body;
}
