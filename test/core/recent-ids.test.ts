import { describe, expect, it } from 'vitest';
import { RecentIds } from '../../src/core/recent-ids.js';

describe('RecentIds', () => {
  it('keeps the latest ids up to its limit and forgets the oldest first', () => {
    const ids = new RecentIds(3);
    for (const id of ['a', 'b', 'c', 'd']) ids.add(id);
    expect(ids.has('a')).toBe(false);
    expect(['b', 'c', 'd'].every((id) => ids.has(id))).toBe(true);
    expect(ids.size).toBe(3);
    expect(ids.latest()).toEqual(['b', 'c', 'd']);
  });

  it('leaves an id already there in its place when it is added again', () => {
    const ids = new RecentIds(3);
    for (const id of ['a', 'b', 'a', 'c', 'd']) ids.add(id);
    // 'a' was not refreshed by its second add: it is still the oldest, so 'd' pushed it out.
    expect(ids.latest()).toEqual(['b', 'c', 'd']);
  });

  it.each([
    [0, []],
    [2, ['d', 'e']],
    [5, ['a', 'b', 'c', 'd', 'e']],
    [9, ['a', 'b', 'c', 'd', 'e']],
  ])('gives the latest %i ids, oldest first', (count, expected) => {
    const ids = new RecentIds(8);
    for (const id of ['a', 'b', 'c', 'd', 'e']) ids.add(id);
    expect(ids.latest(count)).toEqual(expected);
  });

  it('forgets everything on clear and fills up again', () => {
    const ids = new RecentIds(2);
    ids.add('a');
    ids.add('b');
    ids.clear();
    expect(ids.size).toBe(0);
    expect(ids.has('a')).toBe(false);
    ids.add('c');
    expect(ids.latest()).toEqual(['c']);
  });
});
