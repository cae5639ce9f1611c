/**
 * The refusals of authorisation the client treats on its own: an expired access token (renewed, then the request
 * is sent once more: it was not executed) and, in app mode, a refusal that must wait for an admin rather than park.
 */
import { AuthRequiredError, type RestCredentials } from './auth/rest-auth.js';
import { BitrixError } from './errors.js';

/** The access token was refused as expired or unknown: the only answer renewing the token can fix. */
const RENEWABLE = new Set(['EXPIRED_TOKEN', 'INVALID_TOKEN']);
/** A plan without REST: the admin must act on the portal's subscription, the commands wait (app mode). */
const ACCOUNT_CODES = new Set(['PAYMENT_REQUIRED', 'ACCESS_DENIED']);

/** A refusal that a renewed access token fixes (only when the request carried one). */
export function isRenewable(err: BitrixError, creds: RestCredentials): boolean {
  return creds.accessToken !== undefined && err.httpStatus === 401 && RENEWABLE.has(err.code.toUpperCase());
}

/** Credentials, or a retryable AUTH_REQUIRED error raised here, without a request to the portal. */
export async function credentialsFor(method: string, get: () => Promise<RestCredentials>): Promise<RestCredentials> {
  try {
    return await get();
  } catch (err) {
    if (!(err instanceof AuthRequiredError)) throw err;
    throw new BitrixError({ kind: 'retryable', errorCode: 'AUTH_REQUIRED', method, code: err.reason, description: err.advice });
  }
}

/**
 * App mode: a whole request refused for its authorisation or the portal's plan waits for an admin instead of being
 * parked (issue: "nothing is dropped, commands wait in the outbox"); a webhook's refusal is final, as before.
 */
export function appModeRefusal(error: BitrixError): BitrixError {
  if (error.errorCode !== 'AUTH' || (error.httpStatus !== 401 && error.httpStatus !== 403)) return error;
  const account = ACCOUNT_CODES.has(error.code.toUpperCase());
  return new BitrixError({
    kind: 'retryable',
    errorCode: account ? 'ACCOUNT' : 'AUTH_REQUIRED',
    method: error.method,
    code: error.code,
    description: error.description,
    httpStatus: error.httpStatus,
  });
}
