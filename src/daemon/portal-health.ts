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
  /** Requests per second of the last minute, a ring of 60 counters (the live view's "requests in the last minute"). */
  private readonly perSecond = new Array<number>(60).fill(0);
  private ringSecond = 0;
  private refusal: { at: number; method: string; code: string } | undefined;

  constructor(private readonly clock: () => number) {
    this.lastRequestAt = clock();
    this.ringSecond = Math.floor(this.lastRequestAt / 1000);
  }

  observe(info: RequestInfo): void {
    this.lastRequestAt = this.clock();
    this.advance(this.lastRequestAt);
    this.perSecond[this.ringSecond % 60]! += 1;
    // Any answer that was not a result: a rate limit, a contract error, an auth refusal, or no answer at all.
    if (info.errorCode !== undefined) this.refusal = { at: this.lastRequestAt, method: info.method, code: info.errorCode };
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

  /** HTTP requests to the portal in the last 60 seconds. */
  requestsLastMinute(): number {
    this.advance(this.clock());
    return this.perSecond.reduce((a, b) => a + b, 0);
  }

  /** The last request that did not get a result, and why (an error code, never a URL). */
  get lastRefusal(): { at: number; method: string; code: string } | undefined {
    return this.refusal;
  }

  /** Moves the ring to the current second, zeroing the seconds passed since (all of them after a minute). */
  private advance(now: number): void {
    const second = Math.floor(now / 1000);
    if (second <= this.ringSecond) return;
    for (let s = Math.max(this.ringSecond + 1, second - 59); s <= second; s++) this.perSecond[s % 60] = 0;
    this.ringSecond = second;
  }

  /** True when nothing has talked to the portal for `idleMs`: time for a light probe. */
  idleFor(idleMs: number): boolean {
    return this.clock() - this.lastRequestAt >= idleMs;
  }
}
