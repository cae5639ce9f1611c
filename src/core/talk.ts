import type { Call } from './call.js';
import { transition } from './call-table.js';
import { closeCardIfIdle } from './cards.js';
import { consultedCall } from './consult.js';
import type { Core, Turn } from './core-state.js';
import type { ChannelSnapshot } from './events.js';
import { observe } from './observe.js';

/**
 * Who talks to the customer: the agent a dial, a queue or a transfer connected, or the newest agent in a bridge
 * with the customer. The first one answers the call; each change closes the previous agent's card.
 */
export function markTalking(core: Core, turn: Turn, call: Call, ext: string, channel: string | undefined): void {
  if (call.answeredAt === undefined) {
    transition(call, 'talking', turn.kind);
    call.answeredAt = turn.at;
  }
  const previous = call.talkingExt;
  if (channel !== undefined) call.consults.delete(channel);
  if (previous !== ext) call.talkedExts.push(ext);
  call.talkingExt = ext;
  call.talkingChannel = channel;
  if (previous !== undefined && previous !== ext) closeCardIfIdle(core, turn, call, core.users.userIdFor(previous, turn.out));
}

export function onBridgeEnter(core: Core, turn: Turn, bridgeId: string, snap: ChannelSnapshot): void {
  const observed = observe(core, turn, snap);
  // A consultation target may join the customer's bridge before its Linkedid says so.
  const call = consultedCall(core, snap.uniqueid) ?? observed;
  const members = core.channels.enterBridge(snap.uniqueid, bridgeId);
  if (!members || !call || call.direction === undefined || call.customerChannel === undefined || !members.has(call.customerChannel)) return;
  // The newest agent in a bridge with the customer is the one talking (answer, blind or attended transfer).
  // The call's own channels come first: when the customer is moved into the consultation's bridge, the target
  // talks, not the agent's consultation channel still sitting there with the consultation's Linkedid.
  const newestFirst = [...members].reverse();
  const own = (id: string) => core.channels.get(id)?.linkedid === call.linkedid || core.consultations.linkedidOf(id) === call.linkedid;
  const candidates = snap.uniqueid === call.customerChannel ? [...newestFirst.filter(own), ...newestFirst.filter((id) => !own(id))] : [snap.uniqueid];
  for (const id of candidates) {
    if (id === call.customerChannel) continue;
    const ext = agentExtOf(core, call, id);
    if (ext !== undefined) return markTalking(core, turn, call, ext, id);
  }
}

/** An agent's leg: an extension with a user, or any leg in an internal context (a phone of the PBX). */
export function isAgentLeg(core: Core, ext: string, context: string): boolean {
  return core.users.has(ext) || core.classifier.directionOf(context) === 'internal';
}

function agentExtOf(core: Core, call: Call, uniqueid: string): string | undefined {
  const ch = core.channels.get(uniqueid);
  if (!ch) return undefined;
  if (uniqueid === call.originChannel) return call.placingExt;
  const ext = core.classifier.extensionOf(ch.name);
  return ext !== undefined && isAgentLeg(core, ext, ch.context) ? ext : undefined;
}
