/**
 * Exponential backoff, the one rule for every retry in the daemon (outbox, AMI reconnect, resync, user map): the
 * delay before retry number `attempt` (1 = the first retry) is initialMs * factor^(attempt - 1), capped at maxMs,
 * then moved at random by up to `jitter` either way so that many clients do not retry in step. Pure.
 */

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** Growth per attempt; default 2. */
  factor?: number;
  /** 0.2 = each delay randomly moved up to 20 % either way; default 0 (none). */
  jitter?: number;
  /** Default Math.random; tests pin it. */
  random?: () => number;
}

export function backoffDelay(attempt: number, policy: BackoffPolicy): number {
  const { initialMs, maxMs, factor = 2, jitter = 0 } = policy;
  // The exponent is capped so a long outage never overflows to Infinity (or NaN with initialMs 0).
  const base = Math.min(maxMs, initialMs * factor ** Math.min(Math.max(attempt, 1) - 1, 64));
  if (jitter === 0) return Math.round(base);
  return Math.max(0, Math.round(base * (1 + jitter * (2 * (policy.random ?? Math.random)() - 1))));
}
