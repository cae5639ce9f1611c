import { BitrixError } from '../errors.js';

/**
 * Whether a failed request may still have been executed by the portal (so it must not be assumed unsent). It
 * decides whether a register is repeated only inside Bitrix24's repeat window (register-dedup.ts), so only what
 * certainly never ran counts as not executed.
 */
export function mayHaveExecuted(err: BitrixError): boolean {
  // No usable token (raised before anything left), or the whole request refused for its authorisation or the plan
  // (401/403 answered before any method ran): nothing executed.
  if (err.errorCode === 'AUTH_REQUIRED' || err.httpStatus === 401 || err.httpStatus === 403) return false;
  if (err.httpStatus === 503 || err.httpStatus === 429) return false; // refused at the gateway
  // No connection was made: refused, no such host, no route.
  return !['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH'].includes(err.code);
}

export function toBitrixError(err: unknown): BitrixError {
  if (err instanceof BitrixError) return err;
  return new BitrixError({ kind: 'retryable', errorCode: 'NETWORK', code: 'NETWORK', description: err instanceof Error ? err.message : String(err), method: 'batch' });
}
