import { BitrixError } from '../errors.js';

/** Exponential backoff with ±20 % jitter, capped. (A whole request refused for good is parked, never retried.) */
export function retryDelay(attempts: number, opts: { initialMs: number; maxMs: number; random: () => number }): number {
  const base = Math.min(opts.maxMs, opts.initialMs * 2 ** Math.min(attempts - 1, 20));
  return Math.round(base * (1 + (opts.random() - 0.5) * 0.4));
}

/** Whether a failed request may still have been executed by the portal (so it must not be assumed unsent). */
export function mayHaveExecuted(err: BitrixError): boolean {
  if (err.httpStatus === 503 || err.httpStatus === 429) return false; // refused at the gateway
  return !['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH'].includes(err.code);
}

export function toBitrixError(err: unknown): BitrixError {
  if (err instanceof BitrixError) return err;
  return new BitrixError({ kind: 'retryable', errorCode: 'NETWORK', code: 'NETWORK', description: err instanceof Error ? err.message : String(err), method: 'batch' });
}
