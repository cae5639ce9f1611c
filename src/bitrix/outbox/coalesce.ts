import type { OutboxEntry } from '../outbox-entry.js';

/**
 * Merging card changes into the not-yet-sent part of a call's queue. Pure on the arrays it is given.
 * - a show after a pending show: one show with both users (one request, a USER_ID array);
 * - a hide of a user whose latest show is still pending: neither is sent (the card would flash for no one);
 * - a hide after a pending hide: one hide.
 * `movable(e)` says whether an entry may still change (not on the wire, never possibly delivered).
 * Returns the user ids still to show/hide in a new entry ([] when the queue absorbed them all) and the
 * entries that became empty (the caller removes them).
 */
export function absorbCardChange(
  entries: readonly OutboxEntry[],
  kind: 'show' | 'hide',
  userIds: number[],
  movable: (e: OutboxEntry) => boolean,
): { rest: number[]; emptied: OutboxEntry[]; changed: OutboxEntry[] } {
  const tail = entries[entries.length - 1];
  const usersOf = (e: OutboxEntry) => e.params['USER_ID'] as number[];
  if (kind === 'show') {
    if (tail?.kind === 'show' && movable(tail)) {
      for (const u of userIds) if (!usersOf(tail).includes(u)) usersOf(tail).push(u);
      return { rest: [], emptied: [], changed: [tail] };
    }
    return { rest: userIds, emptied: [], changed: [] };
  }
  let rest = [...userIds];
  const changed: OutboxEntry[] = [];
  const emptied: OutboxEntry[] = [];
  // The latest show of each user decides: cancel it if it never left, else the hide must go out.
  const decided = new Set<number>();
  for (let i = entries.length - 1; i >= 0 && decided.size < userIds.length; i--) {
    const e = entries[i]!;
    if (e.kind !== 'show' && e.kind !== 'hide') continue;
    for (const u of usersOf(e)) {
      if (!rest.includes(u) || decided.has(u)) continue;
      decided.add(u);
      if (e.kind !== 'show' || !movable(e)) continue;
      e.params['USER_ID'] = usersOf(e).filter((x) => x !== u);
      rest = rest.filter((x) => x !== u);
      if (!changed.includes(e)) changed.push(e);
    }
  }
  for (const e of changed) if (usersOf(e).length === 0) emptied.push(e);
  if (rest.length > 0 && tail?.kind === 'hide' && movable(tail) && !emptied.includes(tail)) {
    for (const u of rest) if (!usersOf(tail).includes(u)) usersOf(tail).push(u);
    if (!changed.includes(tail)) changed.push(tail);
    rest = [];
  }
  return { rest, emptied, changed: changed.filter((e) => !emptied.includes(e)) };
}
