import type { AmiClient } from '../ami/client.js';
import { field, type AmiMessage } from '../ami/types.js';
import type { LiveChannel, MemberLastCall } from '../core/events.js';
import { liveChannel, memberLastCall } from '../core/normalize.js';

/**
 * What the core asks Asterisk after every (re)connect: the channels it has right now (CoreShowChannels), with
 * their state and bridge, and the queue members' last calls (QueueStatus). What vanished while we were blind is
 * finished (a queue member's LastCall says when), what appeared is picked up, and a call answered meanwhile is
 * known by the agent sharing the customer's bridge.
 */
export async function liveChannels(ami: AmiClient, timeoutMs: number): Promise<LiveChannel[]> {
  const { events } = await ami.action('CoreShowChannels', {}, { timeoutMs });
  return channelList(events);
}

export async function queueLastCalls(ami: AmiClient, timeoutMs: number): Promise<MemberLastCall[]> {
  const { events } = await ami.action('QueueStatus', {}, { timeoutMs });
  return lastCallList(events);
}

/** The channels of a CoreShowChannels answer (its CoreShowChannel items; anything else is skipped). */
export function channelList(events: readonly AmiMessage[]): LiveChannel[] {
  return itemsOf(events, 'CoreShowChannel', liveChannel);
}

/** The members with a last call in a QueueStatus answer (its QueueMember items). */
export function lastCallList(events: readonly AmiMessage[]): MemberLastCall[] {
  return itemsOf(events, 'QueueMember', memberLastCall);
}

/** The items of one kind in an EventList answer, read by `read` (undefined: an item it cannot use, skipped). */
function itemsOf<T>(events: readonly AmiMessage[], event: string, read: (e: AmiMessage) => T | undefined): T[] {
  const out: T[] = [];
  for (const e of events) {
    if (field(e, 'Event') !== event) continue;
    const item = read(e);
    if (item !== undefined) out.push(item);
  }
  return out;
}
