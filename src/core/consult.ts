import type { Call } from './call.js';
import { closeCardIfIdle, endRing, startRing } from './cards.js';
import type { Core, Turn } from './core-state.js';

/**
 * Attended transfers. The transferring agent's consultation is a call of its own (a new channel from the agent's
 * phone, its own Linkedid, internal contexts): the core would never see its target ring. A dial placed by an agent
 * who is talking on a customer's call is therefore read as a ring leg of that call: the target's card shows while
 * the consultation rings, stays open while they consult, and closes when the consultation ends without a transfer.
 * This map routes the consultation leg's events (which carry the consultation's Linkedid) to the customer's call.
 */
export class Consultations {
  /** Consultation leg Uniqueid -> Linkedid of the customer's call it is about. */
  private readonly legs = new Map<string, string>();

  get size(): number {
    return this.legs.size;
  }

  /** The customer call a consultation leg belongs to, if it is one. */
  linkedidOf(legId: string): string | undefined {
    return this.legs.get(legId);
  }

  /** The agent's consultation dials `ext`: its card shows while it rings. */
  start(core: Core, turn: Turn, call: Call, legId: string, ext: string): void {
    this.legs.set(legId, call.linkedid);
    startRing(core, turn, call, legId, ext);
  }

  /** ANSWER: the target now talks to the agent, the card stays open. Anything else: it closes. */
  dialEnded(core: Core, turn: Turn, call: Call, legId: string, status: string): void {
    const leg = call.ringing.get(legId);
    if (!leg) return;
    if (status !== 'ANSWER') return endRing(core, turn, call, legId, false);
    call.ringing.delete(legId);
    call.consults.set(legId, leg);
  }

  /** The leg hung up: a consultation that did not become the transfer closes the target's card. */
  hungUp(core: Core, turn: Turn, call: Call | undefined, legId: string): void {
    this.legs.delete(legId);
    const leg = call?.consults.get(legId);
    if (!call || !leg) return;
    call.consults.delete(legId);
    closeCardIfIdle(core, turn, call, leg.userId);
  }

  /** Whether one of the call's channels is a consultation leg of a customer's call (an agent consulting). */
  involves(call: Call): boolean {
    for (const id of call.channels) if (this.legs.has(id)) return true;
    return false;
  }

  /** The call is over: its consultation legs route nowhere any more (the map holds only live consultations). */
  forgetCall(call: Call): void {
    for (const [id, linkedid] of this.legs) if (linkedid === call.linkedid) this.legs.delete(id);
  }

  /** After a restart: a call's leg whose channel belongs to another Linkedid is a consultation leg. */
  rebuild(calls: Iterable<Call>, linkedidOfChannel: (uniqueid: string) => string | undefined): void {
    for (const call of calls) {
      for (const id of [...call.ringing.keys(), ...call.consults.keys(), ...call.endedRings.keys()]) {
        const owner = linkedidOfChannel(id);
        if (owner !== undefined && owner !== call.linkedid) this.legs.set(id, call.linkedid);
      }
    }
  }
}

/** The customer call a consultation leg belongs to (its own events carry the consultation's Linkedid). */
export function consultedCall(core: Core, legId: string): Call | undefined {
  const linkedid = core.consultations.linkedidOf(legId);
  return linkedid === undefined ? undefined : core.calls.get(linkedid);
}

/**
 * The customer call an agent is talking on, for a dial placed from `channel`: the latest call whose talking agent
 * is `ext`, answered, with the agent's talking channel still up and not the one dialling.
 */
export function callTalkedOnBy(calls: Iterable<Call>, ext: string, channel: string, isLive: (uniqueid: string) => boolean): Call | undefined {
  let found: Call | undefined;
  for (const call of calls) {
    if (call.phase !== 'talking' || call.talkingExt !== ext || call.talkingChannel === channel) continue;
    if (call.talkingChannel !== undefined && !isLive(call.talkingChannel)) continue;
    found = call;
  }
  return found;
}
