import { describe, expect, it } from 'vitest';
import { AddressRateLimiter } from '../../src/http/rate-limit.js';

describe('per-address rate limiter', () => {
  it('lets a burst through, refuses the next with a retry time, and refills over the minute', () => {
    let now = 0;
    const limiter = new AddressRateLimiter({ perMinute: 3, clock: () => now });
    expect([1, 2, 3].map(() => limiter.take('a').ok)).toEqual([true, true, true]);
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterSec: 20 });
    expect(limiter.take('b').ok).toBe(true);
    now = 20_000;
    expect(limiter.take('a').ok).toBe(true);
    expect(limiter.take('a').ok).toBe(false);
  });

  it('keeps memory bounded under a flood of addresses', () => {
    const limiter = new AddressRateLimiter({ perMinute: 10, clock: () => 0, maxTracked: 100 });
    for (let i = 0; i < 1000; i++) limiter.take(`10.0.${i >> 8}.${i & 255}`);
    expect(limiter.tracked).toBeLessThanOrEqual(100);
  });
});
