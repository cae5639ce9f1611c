import { completeConsultation, noteConsultLines } from './atxfer.js';
import type { Call } from './call.js';
import { consultedCall } from './consult.js';
import type { Core, Turn } from './core-state.js';
import type { ChannelSnapshot } from './events.js';
import { observe } from './observe.js';
import { isAgentLeg, markTalking } from './talk.js';

/**
 * BridgeEnter: the newest agent in a bridge with the customer is the one talking (an answer, a blind or attended
 * transfer, a Redirect). A bridge without the customer that takes the talking agent is a consultation (atxfer.ts).
 */
export function onBridgeEnter(core: Core, turn: Turn, bridgeId: string, snap: ChannelSnapshot): void {
  const observed = observe(core, turn, snap);
  // A consultation target may join the customer's bridge before its Linkedid says so.
  const call = consultedCall(core, snap.uniqueid) ?? observed;
  const members = core.channels.enterBridge(snap.uniqueid, bridgeId);
  if (!members || !call || call.direction === undefined || call.customerChannel === undefined) return;
  if (!members.has(call.customerChannel)) return noteConsultLines(core, call, members);
  // The call's own channels come first: when the customer is moved into the consultation's bridge, the target
  // talks, not the agent's consultation channel still sitting there with the consultation's Linkedid.
  const newestFirst = [...members].reverse();
  const own = (id: string) => core.channels.get(id)?.linkedid === call.linkedid || core.consultations.linkedidOf(id) === call.linkedid;
  const candidates = snap.uniqueid === call.customerChannel ? [...newestFirst.filter(own), ...newestFirst.filter((id) => !own(id))] : [snap.uniqueid];
  talkerAmong(core, turn, call, candidates);
}

/**
 * The first of `candidates` (channels in the customer's bridge, best first) that is an agent becomes the one who
 * talks; a consultation channel completes its attended transfer. Returns whether someone took the customer.
 */
export function talkerAmong(core: Core, turn: Turn, call: Call, candidates: Iterable<string>, answeredAt = turn.at): boolean {
  for (const id of candidates) {
    if (id === call.customerChannel) continue;
    // The transfer feature's Local/<number>@<context> is no agent's phone: whoever answered behind it is.
    if (call.consultLines.includes(id)) {
      if (completeConsultation(core, turn, call)) return true;
      continue;
    }
    const ext = agentExtOf(core, call, id);
    if (ext !== undefined) {
      markTalking(core, turn, call, ext, id, answeredAt);
      return true;
    }
  }
  return false;
}

function agentExtOf(core: Core, call: Call, uniqueid: string): string | undefined {
  const ch = core.channels.get(uniqueid);
  if (!ch) return undefined;
  if (uniqueid === call.originChannel) return call.placingExt;
  const leg = call.ringing.get(uniqueid) ?? call.consults.get(uniqueid);
  if (leg !== undefined) return leg.ext;
  const ext = core.classifier.extensionOf(ch.name);
  return ext !== undefined && isAgentLeg(core, ext, ch.context) ? ext : undefined;
}
