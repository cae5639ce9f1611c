/**
 * Failures of Bitrix24 REST calls, split into the only distinction callers act on:
 * `retryable` (try again later, the outbox owns that) or `fatal` (the request itself is wrong,
 * or the webhook is misconfigured; retrying cannot help).
 *
 * Decisions key on the HTTP status and the presence of an `error` member, never on the telephony
 * methods' error code: those are `""` on the wire (docs call them ERROR_CORE),
 * docs/reference/bitrix24-rest.md#empty-error-codes. Only the portal-wide limit codes are matched by name,
 * case-insensitively (the portal spells some codes upper-case, some lower-case:
 * docs/reference/bitrix24-rest.md#system-errors).
 */

export type BitrixErrorKind = 'retryable' | 'fatal';

/** Stable label for logs and metrics; unlike `code` it never depends on portal spelling. */
export type BitrixErrorCode =
  | 'RATE_LIMITED'
  | 'PORTAL_UNAVAILABLE'
  | 'NETWORK'
  | 'TIMEOUT'
  | 'CONTRACT'
  | 'AUTH'
  /** App mode: no usable OAuth token (never installed, refresh token dead, app deleted): waits for an admin. */
  | 'AUTH_REQUIRED'
  /** App mode: the portal's plan refuses REST (PAYMENT_REQUIRED, ACCESS_DENIED "only by subscription"): waits. */
  | 'ACCOUNT'
  /** The portal refuses this kind of authorisation for the method (a webhook calling register/finish). */
  | 'WRONG_AUTH_TYPE'
  | 'METHOD_NOT_FOUND';

/** What went wrong, as seen by the transport layer; the input of classification. */
export type Failure =
  /** The portal answered with an `{error, error_description}` envelope. No status = batch sub-command. */
  | { type: 'envelope'; status?: number; error: string; description?: string }
  /** A response arrived but is not a usable envelope (HTML from a proxy, truncated JSON, odd shape). */
  | { type: 'invalid-body'; status: number; description?: string }
  /** No response at all: connection refused/reset, DNS, TLS, timeout. */
  | { type: 'network'; code?: string; name?: string; message?: string };

export interface Classification {
  kind: BitrixErrorKind;
  errorCode: BitrixErrorCode;
}

export interface BitrixErrorInit extends Classification {
  method: string;
  /** The portal's `error` string as sent (may be ""), a socket code such as ECONNRESET, or INVALID_RESPONSE. */
  code: string;
  description: string;
  httpStatus?: number;
}

export class BitrixError extends Error {
  readonly kind: BitrixErrorKind;
  readonly errorCode: BitrixErrorCode;
  readonly httpStatus?: number;
  readonly code: string;
  readonly description: string;
  readonly method: string;

  constructor(init: BitrixErrorInit) {
    // The message is built from the method name only, never from a URL: the webhook URL holds a secret.
    const code = init.code === '' ? '' : ` ${init.code}`;
    const status = init.httpStatus === undefined ? '' : ` HTTP ${init.httpStatus}`;
    const description = init.description === '' ? '' : `: ${init.description}`;
    super(`${init.method} failed (${init.errorCode}${status}${code})${description}`);
    this.name = 'BitrixError';
    this.kind = init.kind;
    this.errorCode = init.errorCode;
    if (init.httpStatus !== undefined) this.httpStatus = init.httpStatus;
    this.code = init.code;
    this.description = init.description;
    this.method = init.method;
  }

  get retryable(): boolean {
    return this.kind === 'retryable';
  }
}

// Portal-wide limits: safe to retry whatever HTTP status (or none, inside a batch) they arrive with.
const RATE_LIMIT_CODES = new Set(['QUERY_LIMIT_EXCEEDED', 'OPERATION_TIME_LIMIT']);
// OVERLOAD_LIMIT is a manual block by Bitrix, not our request rate, hence a different label.
// INTERNAL_SERVER_ERROR is the 500-class code; inside a batch it has no status to say so.
const UNAVAILABLE_CODES = new Set(['OVERLOAD_LIMIT', 'INTERNAL_SERVER_ERROR']);
// Only used to pick a label for fatal errors; the kind comes from the status.
const AUTH_CODES = new Set([
  'NO_AUTH_FOUND',
  'INVALID_CREDENTIALS',
  'INSUFFICIENT_SCOPE',
  'EXPIRED_TOKEN',
  'INVALID_TOKEN',
  'AUTHORIZATION_ERROR',
  'USER_ACCESS_ERROR',
  'ACCESS_DENIED',
]);
const METHOD_NOT_FOUND_CODES = new Set(['ERROR_METHOD_NOT_FOUND']);

export const QUERY_LIMIT_EXCEEDED = 'QUERY_LIMIT_EXCEEDED';

/** True when `code` is the portal's leaky-bucket refusal (any spelling). */
export function isQueryLimitExceeded(code: string): boolean {
  return code.toUpperCase() === QUERY_LIMIT_EXCEEDED;
}

export function classifyFailure(failure: Failure): Classification {
  switch (failure.type) {
    case 'network':
      return {
        kind: 'retryable',
        errorCode: failure.name === 'TimeoutError' || failure.code === 'ETIMEDOUT' ? 'TIMEOUT' : 'NETWORK',
      };
    case 'invalid-body':
      return classifyInvalidBody(failure.status);
    case 'envelope':
      return classifyEnvelope(failure.status, failure.error);
  }
}

function classifyEnvelope(status: number | undefined, error: string): Classification {
  const code = error.toUpperCase();
  // Documented for register/finish/externalLine.* called with a webhook (Bitrix24 REST docs, telephony pages,
  // since 2026-03): retrying with the same auth cannot help; app mode can.
  if (code === 'WRONG_AUTH_TYPE') return { kind: 'fatal', errorCode: 'WRONG_AUTH_TYPE' };
  if (RATE_LIMIT_CODES.has(code)) return { kind: 'retryable', errorCode: 'RATE_LIMITED' };
  if (UNAVAILABLE_CODES.has(code)) return { kind: 'retryable', errorCode: 'PORTAL_UNAVAILABLE' };
  if (status !== undefined) {
    if (status === 429) return { kind: 'retryable', errorCode: 'RATE_LIMITED' };
    if (status >= 500) return { kind: 'retryable', errorCode: 'PORTAL_UNAVAILABLE' };
    if (status === 401 || status === 403) return { kind: 'fatal', errorCode: 'AUTH' };
    if (status === 404) return { kind: 'fatal', errorCode: 'METHOD_NOT_FOUND' };
  }
  // Other 4xx (400 with "" from telephony methods), a batch sub-command, or an error under 2xx.
  if (AUTH_CODES.has(code)) return { kind: 'fatal', errorCode: 'AUTH' };
  if (METHOD_NOT_FOUND_CODES.has(code)) return { kind: 'fatal', errorCode: 'METHOD_NOT_FOUND' };
  return { kind: 'fatal', errorCode: 'CONTRACT' };
}

function classifyInvalidBody(status: number): Classification {
  // A 401/403/404 without an envelope still means a wrong webhook URL or code: retrying won't fix it.
  if (status === 401 || status === 403) return { kind: 'fatal', errorCode: 'AUTH' };
  if (status === 404) return { kind: 'fatal', errorCode: 'METHOD_NOT_FOUND' };
  // Redirects are not followed (they would carry the secret elsewhere): the configured URL is wrong.
  if (status >= 300 && status < 400) return { kind: 'fatal', errorCode: 'CONTRACT' };
  if (status === 429) return { kind: 'retryable', errorCode: 'RATE_LIMITED' };
  // 5xx, or garbage under 2xx/4xx: an intermediary (proxy, gateway, maintenance page) spoke, not the portal.
  return { kind: 'retryable', errorCode: 'PORTAL_UNAVAILABLE' };
}

/** Classify and wrap in one step. `description` must already be free of secrets. */
export function createBitrixError(method: string, failure: Failure): BitrixError {
  const { kind, errorCode } = classifyFailure(failure);
  switch (failure.type) {
    case 'envelope':
      return new BitrixError({
        kind,
        errorCode,
        method,
        code: failure.error,
        description: failure.description ?? '',
        ...(failure.status === undefined ? {} : { httpStatus: failure.status }),
      });
    case 'invalid-body':
      return new BitrixError({
        kind,
        errorCode,
        method,
        code: 'INVALID_RESPONSE',
        description: failure.description ?? 'response is not a Bitrix24 envelope',
        httpStatus: failure.status,
      });
    case 'network':
      return new BitrixError({
        kind,
        errorCode,
        method,
        code: failure.code ?? failure.name ?? 'NETWORK',
        description: failure.message ?? '',
      });
  }
}
