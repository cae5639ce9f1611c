import { json } from './errors.js';
import type { Route } from './types.js';

export interface HealthProblem {
  kind: string;
  text: string;
  /** A degrading problem turns the answer into 503 even when both ends are reachable. */
  degrading: boolean;
}

export interface HealthStatus {
  ami: boolean;
  portal: boolean;
  /** Bitrix24 commands waiting in the outbox. */
  outboxDepth: number;
  lastError?: string;
  /** What is wrong now and what to do about it (src/daemon/problems.ts). */
  problems?: readonly HealthProblem[];
}

/**
 * GET /healthz: 200 when both ends are reachable and nothing needs the admin, 503 otherwise, with the details as
 * JSON so a monitor or a person with curl sees which end is down and what to do. The probe is injected: this file
 * knows nothing about AMI or the outbox.
 */
export function createHealthRoute(probe: () => HealthStatus): Route {
  return () => {
    const s = probe();
    const problems = s.problems ?? [];
    const ok = s.ami && s.portal && !problems.some((p) => p.degrading);
    return json(
      ok ? 200 : 503,
      {
        status: ok ? 'ok' : 'degraded',
        ami: s.ami,
        portal: s.portal,
        outboxDepth: s.outboxDepth,
        ...(s.lastError !== undefined ? { lastError: s.lastError.slice(0, 300) } : {}),
        ...(problems.length > 0 ? { problems: problems.map((p) => ({ kind: p.kind, text: p.text.slice(0, 300), degrading: p.degrading })) } : {}),
      },
      { 'cache-control': 'no-store' },
    );
  };
}
