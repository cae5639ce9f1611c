import { describe, expect, it } from 'vitest';
import { LeakyBucket, acquire } from '../../src/bitrix/limiter.js';

function fakeClock(start = 0) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

/** Reserve `n` slots at the current instant; returns each wait. */
function reserveMany(bucket: LeakyBucket, n: number): number[] {
  return Array.from({ length: n }, () => bucket.reserve());
}

describe('LeakyBucket', () => {
  it('lets 50 requests through at once, then spaces them 500 ms apart at 2/s with safety 0', () => {
    const clock = fakeClock(1_000_000);
    const bucket = new LeakyBucket({ perSecond: 2, burst: 50, safety: 0 }, clock.now);
    expect(reserveMany(bucket, 50)).toEqual(Array(50).fill(0));
    expect(reserveMany(bucket, 4)).toEqual([500, 1000, 1500, 2000]);
  });

  it('keeps the safety slots free by default', () => {
    const clock = fakeClock();
    const bucket = new LeakyBucket({ perSecond: 2, burst: 50 }, clock.now);
    expect(reserveMany(bucket, 48)).toEqual(Array(48).fill(0));
    expect(bucket.reserve()).toBe(500);
  });

  it('honours a custom safety margin', () => {
    const clock = fakeClock();
    const bucket = new LeakyBucket({ perSecond: 5, burst: 10, safety: 4 }, clock.now);
    expect(reserveMany(bucket, 6)).toEqual(Array(6).fill(0));
    expect(reserveMany(bucket, 2)).toEqual([200, 400]);
  });

  it('drains at the configured rate so waiting callers get slots back', () => {
    const clock = fakeClock();
    const bucket = new LeakyBucket({ perSecond: 2, burst: 50, safety: 0 }, clock.now);
    reserveMany(bucket, 50);
    expect(bucket.level()).toBe(50);
    clock.advance(1000);
    expect(bucket.level()).toBe(48);
    expect(reserveMany(bucket, 3)).toEqual([0, 0, 500]);
    clock.advance(60_000);
    expect(bucket.level()).toBe(0);
    expect(reserveMany(bucket, 50)).toEqual(Array(50).fill(0));
  });

  it('counts a reserved request at its future send time', () => {
    const clock = fakeClock();
    const bucket = new LeakyBucket({ perSecond: 2, burst: 50, safety: 0 }, clock.now);
    reserveMany(bucket, 50);
    expect(bucket.reserve()).toBe(500);
    // The pending reservation is already in the level, and the next caller queues behind it.
    expect(bucket.level()).toBe(50);
    clock.advance(250);
    expect(bucket.reserve()).toBe(750);
    // Last send happens at t=1000 with level 50; at t=2250 it has drained 1.25 s × 2/s.
    clock.advance(2000);
    expect(bucket.level()).toBeCloseTo(47.5, 6);
  });

  it('assumes a full bucket after the portal refused a request', () => {
    const clock = fakeClock();
    const bucket = new LeakyBucket({ perSecond: 2, burst: 50 }, clock.now);
    expect(bucket.reserve()).toBe(0);
    bucket.penalize();
    expect(bucket.level()).toBe(50);
    // Full at 50, usable capacity 48: three slots must drain first.
    expect(bucket.reserve()).toBe(1500);
    expect(bucket.reserve()).toBe(2000);
  });

  it('rejects configurations that leave no usable slot', () => {
    expect(() => new LeakyBucket({ perSecond: 2, burst: 2 }, () => 0)).toThrow(RangeError);
    expect(() => new LeakyBucket({ perSecond: 0, burst: 50 }, () => 0)).toThrow(RangeError);
    expect(() => new LeakyBucket({ perSecond: 2, burst: 50, safety: -1 }, () => 0)).toThrow(RangeError);
  });
});

describe('acquire', () => {
  it('sleeps exactly the reserved wait and reports it', async () => {
    const clock = fakeClock();
    const bucket = new LeakyBucket({ perSecond: 2, burst: 3, safety: 1 }, clock.now);
    const slept: number[] = [];
    const sleep = async (ms: number) => {
      slept.push(ms);
    };
    expect(await acquire(bucket, sleep)).toBe(0);
    expect(await acquire(bucket, sleep)).toBe(0);
    expect(await acquire(bucket, sleep)).toBe(500);
    expect(slept).toEqual([500]);
  });
  it('says how long until the next request fits without claiming it', () => {
    let now = 0;
    const bucket = new LeakyBucket({ perSecond: 2, burst: 5, safety: 0 }, () => now);
    for (let i = 0; i < 5; i++) expect(bucket.reserve()).toBe(0);
    expect(bucket.waitMs()).toBe(500);
    expect(bucket.waitMs()).toBe(500); // peeking twice claims nothing
    now = 500;
    expect(bucket.waitMs()).toBe(0);
  });
});
