import { endRing, startRing } from './cards.js';
import { callTalkedOnBy, consultedCall } from './consult.js';
import type { Core, Turn } from './core-state.js';
import type { ChannelSnapshot } from './events.js';
import { observe } from './observe.js';
import { isAgentLeg, markTalking } from './talk.js';

/**
 * Dial(): a leg towards an agent rings (its card shows) and is answered or not; the first leg an outbound call
 * dials from its outbound context is the customer's; a dial between two agents while one talks to a customer is the
 * consultation of an attended transfer; the caller-less dial of a click-to-call is the agent's own phone ringing.
 */
export function onDialBegin(core: Core, turn: Turn, caller: ChannelSnapshot | undefined, dest: ChannelSnapshot): void {
  if (caller) observe(core, turn, caller);
  const call = observe(core, turn, dest);
  if (call && call.direction === undefined && caller) return maybeConsultation(core, turn, caller, dest);
  if (!call || call.direction === undefined) return;
  // Click-to-call: the caller-less dial is our Originate ringing the agent. It is the call's origin, not a ring
  // leg: the call is answered when the customer answers, and an unanswered agent leg still sets lastDialStatus.
  if (call.clickToCall && caller === undefined && call.originChannel === undefined) {
    call.originChannel = dest.uniqueid;
    return;
  }
  const fromOutboundContext = caller !== undefined && core.classifier.directionOf(caller.context) === 'outbound';
  if (call.direction === 'outbound' && call.customerChannel === undefined && fromOutboundContext) {
    call.customerChannel = dest.uniqueid;
    if (caller && call.originChannel === undefined) call.originChannel = caller.uniqueid;
    return;
  }
  const ext = core.classifier.extensionOf(dest.name);
  if (ext !== undefined && isAgentLeg(core, ext, dest.context)) startRing(core, turn, call, dest.uniqueid, ext);
}

/** An internal dial: if an agent talking to a customer placed it, it is the consultation of an attended transfer. */
function maybeConsultation(core: Core, turn: Turn, caller: ChannelSnapshot, dest: ChannelSnapshot): void {
  const agentExt = core.classifier.extensionOf(caller.name);
  const ext = core.classifier.extensionOf(dest.name);
  if (agentExt === undefined || ext === undefined || ext === agentExt || !isAgentLeg(core, ext, dest.context)) return;
  const call = callTalkedOnBy(core.calls.values(), agentExt, caller.uniqueid, (id) => core.channels.get(id) !== undefined);
  if (call) core.consultations.start(core, turn, call, dest.uniqueid, ext);
}

export function onDialEnd(core: Core, turn: Turn, caller: ChannelSnapshot | undefined, dest: ChannelSnapshot, status: string): void {
  if (caller) observe(core, turn, caller);
  const call = observe(core, turn, dest);
  const consulted = consultedCall(core, dest.uniqueid);
  if (consulted && consulted !== call) return core.consultations.dialEnded(core, turn, consulted, dest.uniqueid, status);
  if (!call || call.direction === undefined) return;
  if (dest.uniqueid === call.customerChannel) {
    call.lastDialStatus = status;
    if (status === 'ANSWER' && call.placingExt !== undefined) markTalking(core, turn, call, call.placingExt, call.originChannel);
    return;
  }
  const leg = call.ringing.get(dest.uniqueid);
  if (leg) {
    if (status === 'ANSWER') {
      endRing(core, turn, call, dest.uniqueid, true);
      markTalking(core, turn, call, leg.ext, dest.uniqueid);
    } else {
      call.lastDialStatus = status;
      endRing(core, turn, call, dest.uniqueid, false);
    }
  } else if (!caller && status !== 'ANSWER') {
    // An originated leg (click-to-call rings the agent first) that was not answered.
    call.lastDialStatus = status;
  }
}
