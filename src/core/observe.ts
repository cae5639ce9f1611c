import { newCall, type Call } from './call.js';
import { endCall } from './call-end.js';
import { endRing } from './cards.js';
import type { Core, Turn } from './core-state.js';
import { classifyCall } from './direction.js';
import type { ChannelSnapshot } from './events.js';
import { makeRoomForCall, makeRoomForChannel } from './limits.js';

/**
 * Every channel snapshot passes here: the channel is recorded (or refreshed) under its Uniqueid, followed when its
 * Linkedid changes, and its call (by Linkedid) is found or started and classified. Returns the call, or undefined
 * when the Linkedid already ended (late events never start a call again).
 */
export function observe(core: Core, turn: Turn, snap: ChannelSnapshot): Call | undefined {
  if (core.calls.isEnded(snap.linkedid)) return undefined;
  const firstLook = !turn.seen.has(snap.linkedid);
  turn.seen.add(snap.linkedid);
  // Asterisk may publish a snapshot after the channel's Hangup: it must not bring the channel back.
  if (core.channels.isHungUp(snap.uniqueid)) return core.calls.get(snap.linkedid);
  let call = core.calls.get(snap.linkedid);
  if (!call) {
    makeRoomForCall(core, turn);
    call = newCall(snap.linkedid, turn.at);
    core.calls.add(call);
  } else if (firstLook) core.calls.touch(call);
  const ch = core.channels.get(snap.uniqueid);
  if (!ch) {
    makeRoomForChannel(core, turn, call);
    core.channels.set(snap.uniqueid, { linkedid: snap.linkedid, name: snap.name, context: snap.context, bridge: undefined });
  } else {
    if (ch.linkedid !== snap.linkedid) moveChannel(core, turn, snap.uniqueid, ch, snap.linkedid);
    ch.name = snap.name;
    ch.context = snap.context;
  }
  call.channels.add(snap.uniqueid);
  classifyCall(core, turn, call, snap);
  return call;
}

/** The call of a caller snapshot, only once its direction is known (internal calls get no cards). */
export function classifiedCall(core: Core, turn: Turn, caller: ChannelSnapshot): Call | undefined {
  const call = observe(core, turn, caller);
  return call?.direction === undefined ? undefined : call;
}

/** Bridges rewrite a channel's Linkedid to the oldest one in the bridge (transfers): follow it. */
function moveChannel(core: Core, turn: Turn, uniqueid: string, ch: { linkedid: string }, linkedid: string): void {
  const from = core.calls.get(ch.linkedid);
  ch.linkedid = linkedid;
  if (!from) return;
  from.channels.delete(uniqueid);
  endRing(core, turn, from, uniqueid, false);
  if (from.channels.size === 0) endCall(core, turn, from);
}
