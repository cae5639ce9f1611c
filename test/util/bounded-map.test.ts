import { describe, expect, it } from 'vitest';
import { BoundedMap } from '../../src/util/bounded-map.js';

/** The one bounded map: expiry per entry on an injected clock, a size bound that drops expired entries first. */

function make(max = 3) {
  let now = 1000;
  const evicted: Array<[string, number]> = [];
  const map = new BoundedMap<string, number>({ max, clock: () => now, onEvict: (k, v) => evicted.push([k, v]) });
  return { map, evicted, advance: (ms: number) => (now += ms), now: () => now };
}

describe('BoundedMap', () => {
  it('returns an entry until it expires, then never again', () => {
    const { map, advance, now } = make();
    map.set('a', 1, now() + 100);
    expect(map.get('a')).toBe(1);
    advance(99);
    expect(map.has('a')).toBe(true);
    advance(1);
    expect(map.get('a')).toBeUndefined();
    expect(map.size).toBe(0);
  });

  it('keeps an entry without expiry until deleted', () => {
    const { map, advance } = make();
    map.set('a', 1);
    advance(10 ** 9);
    expect(map.get('a')).toBe(1);
    expect(map.delete('a')).toBe(true);
    expect(map.get('a')).toBeUndefined();
  });

  it('makes room by dropping expired entries first, without telling anyone', () => {
    const { map, evicted, advance, now } = make();
    map.set('old', 1);
    map.set('short', 2, now() + 10);
    map.set('young', 3);
    advance(10);
    map.set('new', 4);
    expect([...map.entries()]).toEqual([['old', 1], ['young', 3], ['new', 4]]);
    expect(evicted).toEqual([]);
  });

  it('then pushes out the oldest written, and says so', () => {
    const { map, evicted } = make();
    map.set('a', 1);
    map.set('b', 2);
    map.set('c', 3);
    map.set('a', 10); // a write moves it to the end: b is now the oldest
    map.set('d', 4);
    expect([...map.entries()]).toEqual([['c', 3], ['a', 10], ['d', 4]]);
    expect(evicted).toEqual([['b', 2]]);
  });

  it('refuses a bound below one', () => {
    expect(() => new BoundedMap({ max: 0, clock: () => 0 })).toThrow(RangeError);
  });
});
