import type { RequestInfo } from '../bitrix/client.js';
import type { BitrixErrorCode } from '../bitrix/errors.js';

/** Outcomes that mean the portal did not serve us: it is down, unreachable, or refuses the webhook. */
const DOWN: ReadonlySet<BitrixErrorCode> = new Set(['PORTAL_UNAVAILABLE', 'NETWORK', 'TIMEOUT', 'AUTH']);

/**
 * "Is the portal reachable?" for /healthz, from every request the Bitrix24 client makes (outbox, user map, CRM
 * lookups, uploads), not only deliveries: an idle daemon whose portal went away must not report healthy. A rate
 * limit or a contract error still proves the portal answered.
 */
export class PortalHealth {
  private ok = true;
  private lastRequestAt: number;
  private lastProblem: string | undefined;

  constructor(private readonly clock: () => number) {
    this.lastRequestAt = clock();
  }

  observe(info: RequestInfo): void {
    this.lastRequestAt = this.clock();
    this.ok = info.errorCode === undefined || !DOWN.has(info.errorCode);
    this.lastProblem = this.ok ? undefined : `portal: ${info.method} ${info.errorCode} (HTTP ${info.status || 'none'})`;
  }

  get reachable(): boolean {
    return this.ok;
  }

  /** Why the last request failed, while the portal is considered down. */
  get problem(): string | undefined {
    return this.lastProblem;
  }

  /** True when nothing has talked to the portal for `idleMs`: time for a light probe. */
  idleFor(idleMs: number): boolean {
    return this.clock() - this.lastRequestAt >= idleMs;
  }
}
