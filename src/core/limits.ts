import type { Call } from './call.js';
import type { EvictionRank } from './call-book.js';
import { endCall, forgetCall } from './call-end.js';
import { endRing } from './cards.js';
import type { Core, Turn } from './core-state.js';

/**
 * How much the core tracks at most, and what it lets go first: a broken or hostile AMI (events for channels that
 * never hang up, a CoreShowChannels answer with 100k channels) must cost bounded memory, and the real calls among
 * the noise must still come out right.
 */
export interface TrackingLimits {
  calls: number;
  channels: number;
}

/**
 * One Asterisk server carries a few hundred calls at once (a big call centre's peak, say 300-500; media and
 * transcoding bound it before the core does). 1000 calls is two to three times that, and the concurrency the
 * memory benchmark holds within its 100 MB goal; 8000 channels is 8 per call at that limit (the caller, the agent's
 * phone, a Local channel pair per ringing member). A snapshot at these limits, every call ringing seven members,
 * is 1.8 MB and took 12-30 ms to save (median 16 ms, bench/diag/snapshot-cost.ts, 2-core host under load); at the
 * limits after a flood of one-channel calls, 0.45 MB and 3 ms. Without limits it grew with the flood until the
 * daemon ran out of heap in JSON.stringify.
 */
export const DEFAULT_LIMITS: TrackingLimits = { calls: 1000, channels: 8000 };

/**
 * Idle calls go first: those Bitrix24 does not know yet, that show no card and that no consultation involves
 * (internal calls, calls not classified yet, calls nobody's phone rang for yet, and noise). A known call goes only
 * when no idle one is left; it is finished as of now, so no card stays open and Bitrix24 gets its one finish.
 */
export function evictionRank(core: Core, call: Call): EvictionRank {
  return call.registered || call.cards.size > 0 || core.consultations.involves(call) ? 'known' : 'idle';
}

/** Before a new call is tracked. */
export function makeRoomForCall(core: Core, turn: Turn): void {
  while (core.calls.size >= core.limits.calls) {
    const victim = core.calls.victim((c) => evictionRank(core, c), turn.seen, false);
    if (victim === undefined) return;
    evict(core, turn, victim);
  }
}

/**
 * Before a new channel of `owner` is tracked. No call holds more than an eighth of the channels (1000 by default:
 * a queue ringing 300 members through Local channel pairs), so a flood into one Linkedid costs that call its own
 * oldest channels (never its customer's, origin or talker's); past the limit, calls go in eviction order.
 */
export function makeRoomForChannel(core: Core, turn: Turn, owner: Call): void {
  if (owner.channels.size >= Math.max(8, Math.floor(core.limits.channels / 8))) trimChannel(core, turn, owner);
  while (core.channels.size >= core.limits.channels) {
    const victim = core.calls.victim((c) => evictionRank(core, c), turn.seen, false);
    if (victim !== undefined) evict(core, turn, victim);
    else if (!trimChannel(core, turn, owner)) return;
  }
}

/** Whether a resync may take a channel it does not know yet (it takes no more than fits; it evicts nothing). */
export function hasRoomFor(core: Core, linkedid: string): boolean {
  return core.channels.size < core.limits.channels && (core.calls.has(linkedid) || core.calls.size < core.limits.calls);
}

function evict(core: Core, turn: Turn, call: Call): void {
  turn.evictedCalls++;
  for (const id of call.channels) if (core.channels.get(id)?.linkedid === call.linkedid) turn.evictedChannels++;
  if (evictionRank(core, call) === 'known') endCall(core, turn, call);
  else forgetCall(core, call, false);
}

/** Drops the oldest channel of `call` that is not its customer's, its origin or its talker's. */
function trimChannel(core: Core, turn: Turn, call: Call): boolean {
  for (const id of call.channels) {
    if (id === call.customerChannel || id === call.originChannel || id === call.talkingChannel) continue;
    call.channels.delete(id);
    if (core.channels.get(id)?.linkedid === call.linkedid) core.channels.delete(id);
    endRing(core, turn, call, id, false);
    turn.evictedChannels++;
    return true;
  }
  return false;
}
