import { BitrixError } from '../errors.js';

/** Whether a failed request may still have been executed by the portal (so it must not be assumed unsent). */
export function mayHaveExecuted(err: BitrixError): boolean {
  if (err.httpStatus === 503 || err.httpStatus === 429) return false; // refused at the gateway
  return !['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH'].includes(err.code);
}

export function toBitrixError(err: unknown): BitrixError {
  if (err instanceof BitrixError) return err;
  return new BitrixError({ kind: 'retryable', errorCode: 'NETWORK', code: 'NETWORK', description: err instanceof Error ? err.message : String(err), method: 'batch' });
}
