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

describe('portal health for the live view', () => {
  const ok = (method = 'batch') => ({ method, status: 200, durationMs: 1, waitedMs: 0 });

  it('counts the requests of the last 60 seconds, forgetting older ones second by second', () => {
    const at = { now: 10_000 };
    const h = new PortalHealth(() => at.now);
    h.observe(ok());
    h.observe(ok());
    at.now = 40_500;
    h.observe(ok());
    expect(h.requestsLastMinute()).toBe(3);
    at.now = 69_999;
    expect(h.requestsLastMinute()).toBe(3);
    at.now = 70_000;
    expect(h.requestsLastMinute()).toBe(1);
    at.now = 500_000;
    expect(h.requestsLastMinute()).toBe(0);
  });

  it('remembers the last request that got no result, with its method and code, past later successes', () => {
    const at = { now: 1_000 };
    const h = new PortalHealth(() => at.now);
    expect(h.lastRefusal).toBeUndefined();
    h.observe({ ...ok('telephony.externalcall.register'), status: 503, errorCode: 'RATE_LIMITED' });
    at.now = 2_000;
    h.observe(ok());
    expect(h.lastRefusal).toEqual({ at: 1_000, method: 'telephony.externalcall.register', code: 'RATE_LIMITED' });
  });
});
