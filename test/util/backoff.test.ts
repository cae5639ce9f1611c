import { describe, expect, it } from 'vitest';
import { backoffDelay, type BackoffPolicy } from '../../src/util/backoff.js';

/** The one backoff rule: doubling (or `factor`) from initialMs, capped at maxMs, then jittered. */

describe('backoffDelay', () => {
  const plain: BackoffPolicy = { initialMs: 500, maxMs: 30_000 };
  it.each<[string, number, BackoffPolicy, number]>([
    ['the first retry waits initialMs', 1, plain, 500],
    ['each retry doubles', 4, plain, 4000],
    ['the cap holds', 7, plain, 30_000],
    ['a long outage stays at the cap (no overflow)', 5000, plain, 30_000],
    ['attempt 0 or below counts as the first', 0, plain, 500],
    ['another factor', 3, { initialMs: 100, maxMs: 10_000, factor: 3 }, 900],
    ['jitter at its low end', 2, { ...plain, jitter: 0.2, random: () => 0 }, 800],
    ['jitter at its high end', 2, { ...plain, jitter: 0.2, random: () => 1 }, 1200],
    ['jitter at its middle is none', 2, { ...plain, jitter: 0.2, random: () => 0.5 }, 1000],
    ['jitter applies after the cap', 9, { ...plain, jitter: 0.2, random: () => 1 }, 36_000],
    ['initialMs 0 stays 0', 10, { initialMs: 0, maxMs: 1000 }, 0],
  ])('%s', (_name, attempt, policy, expected) => {
    expect(backoffDelay(attempt, policy)).toBe(expected);
  });
});
