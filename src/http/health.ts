import { json } from './errors.js';
import type { Route } from './types.js';

export interface HealthStatus {
  ami: boolean;
  portal: boolean;
  /** Bitrix24 commands waiting in the outbox. */
  outboxDepth: number;
  lastError?: string;
}

/**
 * GET /healthz: 200 when both ends are reachable, 503 otherwise, with the details as JSON so a monitor or a
 * person with curl sees which end is down. The probe is injected: this file knows nothing about AMI or the outbox.
 */
export function createHealthRoute(probe: () => HealthStatus): Route {
  return () => {
    const s = probe();
    const ok = s.ami && s.portal;
    return json(
      ok ? 200 : 503,
      {
        status: ok ? 'ok' : 'degraded',
        ami: s.ami,
        portal: s.portal,
        outboxDepth: s.outboxDepth,
        ...(s.lastError !== undefined ? { lastError: s.lastError.slice(0, 300) } : {}),
      },
      { 'cache-control': 'no-store' },
    );
  };
}
