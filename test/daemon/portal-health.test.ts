import { describe, expect, it } from 'vitest';
import { PortalHealth } from '../../src/daemon/portal-health.js';

describe('portal health', () => {
  const at = { now: 0 };
  const health = (): PortalHealth => new PortalHealth(() => at.now);

  it('counts a portal that answered, even with a rate limit or a contract error, as reachable', () => {
    const h = health();
    h.observe({ method: 'batch', status: 200, durationMs: 3, waitedMs: 0 });
    expect(h.reachable).toBe(true);
    h.observe({ method: 'batch', status: 503, durationMs: 3, waitedMs: 0, errorCode: 'RATE_LIMITED' });
    expect(h.reachable).toBe(true);
    h.observe({ method: 'telephony.externalcall.finish', status: 400, durationMs: 3, waitedMs: 0, errorCode: 'CONTRACT' });
    expect([h.reachable, h.problem]).toEqual([true, undefined]);
  });

  it('counts an outage, a network failure, a timeout or a refused webhook as down, until the next answer', () => {
    const h = health();
    for (const [status, errorCode] of [[503, 'PORTAL_UNAVAILABLE'], [0, 'NETWORK'], [0, 'TIMEOUT'], [401, 'AUTH']] as const) {
      h.observe({ method: 'user.get', status, durationMs: 1, waitedMs: 0, errorCode });
      expect(h.reachable).toBe(false);
      expect(h.problem).toBe(`portal: user.get ${errorCode} (HTTP ${status || 'none'})`);
    }
    h.observe({ method: 'server.time', status: 200, durationMs: 1, waitedMs: 0 });
    expect([h.reachable, h.problem]).toEqual([true, undefined]);
  });

  it('says when nothing has talked to the portal for a while', () => {
    at.now = 1_000;
    const h = health();
    at.now = 60_999;
    expect(h.idleFor(60_000)).toBe(false);
    at.now = 61_000;
    expect(h.idleFor(60_000)).toBe(true);
    h.observe({ method: 'server.time', status: 200, durationMs: 1, waitedMs: 0 });
    expect(h.idleFor(60_000)).toBe(false);
  });
});
