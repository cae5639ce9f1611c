import { endCall } from './call-end.js';
import type { Core, Turn } from './core-state.js';
import type { ChannelSnapshot } from './events.js';
import { onHangup } from './hangup.js';
import { hasRoomFor } from './limits.js';
import { observe } from './observe.js';

/**
 * After an AMI drop or a restart (CoreShowChannels): channels Asterisk no longer has are hung up as of `at` (their
 * calls end with the best data known); live channels we did not know are picked up like new ones, as many as the
 * limits allow: a list of more channels than the core may track takes no call in progress out (the rest are
 * counted as evicted).
 */
export function onResync(core: Core, turn: Turn, live: readonly ChannelSnapshot[], known: readonly string[]): void {
  const alive = new Set(live.map((c) => c.uniqueid));
  const before = new Set(known);
  for (const [uniqueid, ch] of core.channels.entries()) {
    if (alive.has(uniqueid) || !before.has(uniqueid) || core.channels.get(uniqueid) === undefined) continue;
    const snap = { uniqueid, linkedid: ch.linkedid, name: ch.name, context: ch.context, exten: '', callerIdNum: '', callerIdName: '' };
    onHangup(core, turn, snap, 0);
  }
  for (const call of [...core.calls.values()]) {
    // A call that lost every channel without a Hangup we saw.
    if (call.channels.size === 0 && call.phase !== 'ended' && !call.clickToCall) endCall(core, turn, call);
  }
  for (const snap of live) {
    const fresh = !core.calls.isEnded(snap.linkedid) && !core.channels.isHungUp(snap.uniqueid) && core.channels.get(snap.uniqueid) === undefined;
    if (fresh && !hasRoomFor(core, snap.linkedid)) turn.evictedChannels++;
    else observe(core, turn, snap);
  }
}
