import type { OutboxEntry } from './outbox-entry.js';

/**
 * Merges a new show/hide into the not-yet-sent tail of a key's queue. Pure on the array it is given.
 * - show after a pending show: one show with both users (one request, a USER_ID array);
 * - hide of a user whose show is still pending: neither is sent (the card would flash for no one);
 * - hide after a pending hide: one hide.
 * Returns the user ids still to hide/show in a new entry, or [] when the tail absorbed them.
 */
export function absorbCardChange(tail: OutboxEntry | undefined, kind: 'show' | 'hide', userIds: number[]): number[] {
  if (!tail || tail.uncertain) return userIds;
  const tailUsers = tail.params['USER_ID'] as number[] | undefined;
  if (!Array.isArray(tailUsers)) return userIds;
  if (tail.kind === kind) {
    for (const u of userIds) if (!tailUsers.includes(u)) tailUsers.push(u);
    return [];
  }
  if (kind === 'hide' && tail.kind === 'show') {
    const cancelled = userIds.filter((u) => tailUsers.includes(u));
    tail.params['USER_ID'] = tailUsers.filter((u) => !cancelled.includes(u));
    return userIds.filter((u) => !cancelled.includes(u));
  }
  return userIds;
}
