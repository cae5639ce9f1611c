import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kvGet, kvSet, openStateDb } from '../../src/store/db.js';
import { LIMITER_KEY, openLimiter } from '../../src/store/limiter-state.js';
import { SqliteOutboxStore } from '../../src/store/sqlite-outbox-store.js';
import { removeTempDirs, tempDir } from '../support/tmp.js';

/** Where a new run's rate limiter starts, and how its level is saved. */

afterAll(removeTempDirs);

const RATE = { perSecond: 2, burst: 50 };
const T = 1_800_000_000_000;
const freshDb = () => openStateDb(join(tempDir('b24limit-'), 'state'));
const nextTurn = () => new Promise((r) => setImmediate(r));

describe('the limiter a run opens', () => {
  it('starts from the level the previous run saved, drained by the time that passed', () => {
    const db = freshDb();
    kvSet(db, LIMITER_KEY, { level: 40, at: T }, T);
    const bucket = openLimiter(db, undefined, RATE, () => T + 5000);
    expect(bucket.level()).toBe(30);
    // 30 of 48 slots taken: 18 go at once, the 19th waits for the drain.
    for (let i = 0; i < 18; i++) expect(bucket.reserve()).toBe(0);
    expect(bucket.reserve()).toBe(500);
    db.close();
  });

  it('starts empty on a state dir no run ever wrote: the first card is not held back', () => {
    const db = freshDb();
    const bucket = openLimiter(db, undefined, RATE, () => T);
    expect(bucket.level()).toBe(0);
    expect(bucket.reserve()).toBe(0);
    db.close();
  });

  it('without a saved level, assumes an earlier run filled the bucket at its last write to the database', () => {
    const db = freshDb();
    kvSet(db, 'core.snapshot', { version: 1 }, T - 4000);
    const bucket = openLimiter(db, undefined, RATE, () => T);
    expect(bucket.level()).toBe(48 - 8);
    db.close();
  });

  it('never starts with a level in the future when the clock went back', () => {
    const db = freshDb();
    kvSet(db, LIMITER_KEY, { level: 48, at: T + 60_000 }, T);
    const bucket = openLimiter(db, undefined, RATE, () => T);
    expect(bucket.level()).toBe(48);
    expect(bucket.reserve()).toBe(500); // one slot drains in 0.5 s from now, not from a minute ahead
    db.close();
  });

  it('saves its level in the turn’s transaction, once per turn however many requests it counted', async () => {
    const db = freshDb();
    const store = new SqliteOutboxStore(db, (e) => {
      throw e;
    });
    let now = T;
    let computed = 0;
    const writer = { putKvThisTurn: (key: string, value: () => unknown, at: number) => store.putKvThisTurn(key, () => (computed++, value()), at) };
    const bucket = openLimiter(db, writer, RATE, () => now);
    for (let i = 0; i < 5; i++) bucket.reserve();
    expect(kvGet(db, LIMITER_KEY)).toBeUndefined(); // not yet: at the end of the turn
    await nextTurn();
    expect(kvGet(db, LIMITER_KEY)).toEqual({ level: 5, at: T });
    expect(computed).toBe(1);
    now += 1000;
    bucket.penalize(); // a 503: the portal's bucket is full
    await nextTurn();
    expect(kvGet(db, LIMITER_KEY)).toEqual({ level: 50, at: T + 1000 });
    expect(computed).toBe(2);
    expect(db.prepare("SELECT count(*) AS n FROM kv WHERE key = 'bitrix.limiter'").get()).toEqual({ n: 1 });
    db.close();
  });
});
