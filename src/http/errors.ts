import type { HttpErrorCode, HttpResponse } from './types.js';

/**
 * The one place where a stable error code becomes an HTTP status (fastify's lib/errors.js habit): routes and
 * services speak in codes, clients and the README rely on the codes, and a status change happens here only.
 */

export const STATUS_OF: Readonly<Record<HttpErrorCode, number>> = {
  BAD_REQUEST: 400,
  INVALID_NUMBER: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  DUPLICATE: 409,
  CALL_IN_PROGRESS: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNKNOWN_USER: 422,
  RATE_LIMITED: 429,
  HEADERS_TOO_LARGE: 431,
  INTERNAL: 500,
  NOT_CONFIGURED: 501,
  ORIGINATE_FAILED: 502,
  PBX_UNAVAILABLE: 503,
  PORTAL_UNAVAILABLE: 503,
};

/** A failure carrying its stable code; thrown or returned by routes, turned into a response by errorResponse. */
export class HttpError extends Error {
  override readonly name = 'HttpError';

  constructor(
    readonly code: HttpErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** `{"error": CODE, "message": text}` with the code's status. Messages must never echo secrets. */
export function errorResponse(code: HttpErrorCode, message: string, headers: Record<string, string> = {}): HttpResponse {
  return json(STATUS_OF[code], { error: code, message }, headers);
}

export function fromHttpError(err: HttpError): HttpResponse {
  return errorResponse(err.code, err.message, err.headers);
}

export function json(status: number, value: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: JSON.stringify(value) };
}
