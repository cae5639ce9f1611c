import type { Call } from './call.js';
import { endCall } from './call-end.js';
import { endRing } from './cards.js';
import { consultedCall } from './consult.js';
import type { Core, Turn } from './core-state.js';
import type { ChannelSnapshot } from './events.js';
import { observe } from './observe.js';

/** A channel hung up: its ring leg or consultation ends, and its call ends with its last channel. */
export function onHangup(core: Core, turn: Turn, snap: ChannelSnapshot, cause: number): void {
  const call = observe(core, turn, snap);
  core.channels.hangUp(snap.uniqueid);
  const consulted = consultedCall(core, snap.uniqueid);
  if (consulted && consulted !== call) legHungUp(core, turn, consulted, snap.uniqueid, cause);
  core.consultations.hungUp(core, turn, consulted, snap.uniqueid);
  if (!call) return;
  legHungUp(core, turn, call, snap.uniqueid, cause);
  call.channels.delete(snap.uniqueid);
  if (call.channels.size === 0) endCall(core, turn, call);
}

/** A ring leg's Hangup comes after its DialEnd (or AgentRingNoAnswer): its Cause is read from either. */
function legHungUp(core: Core, turn: Turn, call: Call, uniqueid: string, cause: number): void {
  if (!call.ringing.has(uniqueid) && !call.endedRings.has(uniqueid)) return;
  call.lastAgentHangupCause = cause;
  endRing(core, turn, call, uniqueid, false);
  call.endedRings.delete(uniqueid);
}
