import type { Call, RingLeg } from './call.js';
import { SNAPSHOT_TOMBSTONES } from './channel-book.js';
import type { Core } from './core-state.js';

/**
 * The core's state as plain JSON, so the daemon can finish in-flight calls after a restart (even kill -9).
 * Maps and Sets become arrays; nothing else changes shape.
 */
export interface CallJson extends Omit<Call, 'channels' | 'ringing' | 'endedRings' | 'consults' | 'consultLines' | 'cards' | 'rungExtensions'> {
  channels: string[];
  ringing: Array<[string, RingLeg]>;
  endedRings?: Array<[string, RingLeg]>;
  consults?: Array<[string, RingLeg]>;
  consultLines?: string[];
  cards: number[];
  rungExtensions: string[];
}

export interface ChannelJson {
  uniqueid: string;
  linkedid: string;
  name: string;
  context: string;
  bridge: string | undefined;
}

export interface TrackerSnapshot {
  version: 1;
  /** Time of the last event the core saw: the best known end for calls that vanish meanwhile. */
  lastEventAt: number;
  calls: CallJson[];
  channels: ChannelJson[];
  ended: string[];
  hungUp: string[];
  /** The user map the core had (absent in snapshots written before it was part of the core's state). */
  users?: Record<string, number>;
}

/**
 * Everything a restart needs, bounded by the tracking limits (limits.ts) and the tombstones a snapshot keeps:
 * the daemon saves it every second and in every turn that pops a card.
 */
export function exportCore(core: Core): TrackerSnapshot {
  return {
    version: 1,
    lastEventAt: core.lastEventAt,
    calls: exportCalls(core),
    ...core.channels.exportState(),
    ended: core.calls.endedIds(SNAPSHOT_TOMBSTONES),
    users: core.users.toJSON(),
  };
}

/** The calls in progress as plain JSON, without the channels, tombstones and user map exportCore adds. */
export function exportCalls(core: Core): CallJson[] {
  return [...core.calls.values()].map(callToJson);
}

/** Into a fresh core: the calls in progress, their channels and bridges, the tombstones, the user map. */
export function importCore(core: Core, s: TrackerSnapshot): void {
  if (s.users) core.users.replace(s.users);
  core.lastEventAt = s.lastEventAt;
  core.calls.restore(s.calls.map(callFromJson), s.ended);
  core.channels.importState(s.channels, s.hungUp);
  core.consultations.rebuild(core.calls.values(), (id) => core.channels.get(id)?.linkedid);
}

export function callToJson(call: Call): CallJson {
  return {
    ...call,
    channels: [...call.channels],
    ringing: [...call.ringing.entries()],
    endedRings: [...call.endedRings.entries()],
    consults: [...call.consults.entries()],
    consultLines: [...call.consultLines],
    cards: [...call.cards],
    rungExtensions: [...call.rungExtensions],
    talkedExts: [...call.talkedExts],
    transfers: [...call.transfers],
  };
}

export function callFromJson(json: CallJson): Call {
  return {
    ...json,
    channels: new Set(json.channels),
    ringing: new Map(json.ringing),
    endedRings: new Map(json.endedRings ?? []),
    consults: new Map(json.consults ?? []),
    consultLines: [...(json.consultLines ?? [])],
    cards: new Set(json.cards),
    rungExtensions: new Set(json.rungExtensions),
    // Snapshots written before these fields existed still load.
    talkedExts: [...(json.talkedExts ?? [])],
    queueJoinedAt: json.queueJoinedAt,
    queueLeftAt: json.queueLeftAt,
    transfers: [...json.transfers],
  };
}
