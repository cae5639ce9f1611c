import { answeredWhileBlind, endedWhileBlind } from './blind-estimate.js';
import { talkerAmong } from './bridge.js';
import type { Call } from './call.js';
import { endCall } from './call-end.js';
import { endAllRings, endRing } from './cards.js';
import type { Core, Turn } from './core-state.js';
import type { LiveChannel, MemberLastCall } from './events.js';
import { onHangup } from './hangup.js';
import { hasRoomFor } from './limits.js';
import { observe } from './observe.js';

/**
 * After an AMI drop or a restart (CoreShowChannels and QueueStatus at `turn.at`, the core blind since
 * `blindSince`): channels Asterisk no longer has are hung up, and their calls end with the best data known, at the
 * end the evidence allows (blind-estimate.ts); live channels we did not know are picked up like new ones, as many
 * as the limits allow (a list of more channels than the core may track takes no call in progress out; the rest are
 * counted as evicted). A call whose customer now shares a bridge with an agent was answered (or handed on)
 * meanwhile: that agent talks.
 */
export interface ResyncInput {
  live: readonly LiveChannel[];
  known: readonly string[];
  blindSince?: number;
  lastCalls?: readonly MemberLastCall[];
}

export function onResync(core: Core, turn: Turn, input: ResyncInput): void {
  const { live, known, blindSince = turn.at, lastCalls = [] } = input;
  const alive = new Map(live.map((c) => [c.uniqueid, c]));
  const before = new Set(known);
  const endOf = (call: Call | undefined) => (call === undefined ? turn.at : endedWhileBlind(core, call, lastCalls, blindSince, turn.at));
  for (const [uniqueid, ch] of core.channels.entries()) {
    if (alive.has(uniqueid) || !before.has(uniqueid) || core.channels.get(uniqueid) === undefined) continue;
    const snap = { uniqueid, linkedid: ch.linkedid, name: ch.name, context: ch.context, exten: '', callerIdNum: '', callerIdName: '' };
    onHangup(core, turn, snap, 0, endOf(core.calls.get(ch.linkedid)));
  }
  for (const call of [...core.calls.values()]) {
    // A call that lost every channel without a Hangup we saw.
    if (call.channels.size === 0 && call.phase !== 'ended' && !call.clickToCall) endCall(core, turn, call, endOf(call));
  }
  for (const ch of live) {
    const fresh = !core.calls.isEnded(ch.linkedid) && !core.channels.isHungUp(ch.uniqueid) && core.channels.get(ch.uniqueid) === undefined;
    if (fresh && !hasRoomFor(core, ch.linkedid)) {
      turn.evictedChannels++;
      continue;
    }
    const isNew = !core.calls.has(ch.linkedid);
    const call = observe(core, turn, ch);
    // A call that started while the core was blind: after the moment it last saw everything.
    if (call !== undefined && isNew) call.startedAt = Math.min(call.startedAt, blindSince);
    if (call !== undefined && ch.bridgeId !== undefined) placeInBridge(core, ch.uniqueid, ch.bridgeId);
  }
  // The channels up in each bridge, in the order Asterisk listed them: built once, not once per call.
  const upIn = new Map<string, string[]>();
  for (const c of live) {
    if (!c.up || !c.bridgeId) continue;
    const members = upIn.get(c.bridgeId);
    if (members) members.push(c.uniqueid);
    else upIn.set(c.bridgeId, [c.uniqueid]);
  }
  for (const call of [...core.calls.values()]) {
    consultedMeanwhile(core, turn, call, alive);
    talkerNow(core, turn, call, alive, upIn, answeredWhileBlind(call, blindSince, turn.at));
  }
}

/** A consultation's ring that is up now was answered while the core was blind: its target consults (or took over). */
function consultedMeanwhile(core: Core, turn: Turn, call: Call, alive: ReadonlyMap<string, LiveChannel>): void {
  for (const [id, leg] of [...call.ringing]) if (leg.consult && alive.get(id)?.up) core.consultations.dialEnded(core, turn, call, id, 'ANSWER');
}

function placeInBridge(core: Core, uniqueid: string, bridgeId: string): void {
  if (core.channels.get(uniqueid)?.bridge === (bridgeId || undefined)) return;
  if (bridgeId === '') core.channels.leaveBridge(uniqueid);
  else core.channels.enterBridge(uniqueid, bridgeId);
}

/**
 * The agent answered with the customer in one bridge (both up) talks now. A call still ringing was answered while
 * the core was blind (at `answeredAt`, the estimate, kept as a window that later evidence narrows): the other legs
 * stopped ringing.
 */
function talkerNow(core: Core, turn: Turn, call: Call, alive: ReadonlyMap<string, LiveChannel>, upIn: ReadonlyMap<string, string[]>, answeredAt: number): void {
  const customer = call.customerChannel === undefined ? undefined : alive.get(call.customerChannel);
  if (call.direction === undefined || !customer?.up || !customer.bridgeId || core.calls.get(call.linkedid) !== call) return;
  const inBridge = (upIn.get(customer.bridgeId) ?? []).filter((id) => id !== customer.uniqueid);
  if (call.talkingChannel !== undefined && inBridge.includes(call.talkingChannel)) return;
  // The legs that rang for this call first: they are the ones who could answer it.
  const ranked = [...inBridge.filter((id) => call.ringing.has(id)), ...inBridge.filter((id) => !call.ringing.has(id))];
  const ringing = call.phase === 'ringing';
  if (!talkerAmong(core, turn, call, ranked, answeredAt) || !ringing) return;
  call.answeredWithin = { from: answeredAt, to: turn.at, ext: call.talkingExt! };
  const leg = call.talkingChannel;
  if (leg !== undefined) endRing(core, turn, call, leg, true);
  endAllRings(core, turn, call, leg);
}
