import { forgetCall } from './call-end.js';
import { TransitionError } from './call-table.js';
import { createCore, newTurn, type Core, type TrackerOptions } from './core-state.js';
import { dispatch } from './dispatch.js';
import type { Effect } from './effects.js';
import type { CoreInput, CoreInputKind } from './events.js';
import type { TrackingLimits } from './limits.js';
import { exportCalls, exportCore, importCore, type CallJson, type TrackerSnapshot } from './snapshot.js';

export type { TrackerOptions } from './core-state.js';

/**
 * The daemon's own inputs: they say nothing about when Asterisk was last heard from (the next run's "blind since").
 * A click while AMI is down (and the failed originate the bridge reports for it) would otherwise move that time past
 * the drop, and a call that vanished meanwhile would be counted from too late.
 */
const NOT_FROM_PBX: ReadonlySet<CoreInputKind> = new Set(['userMap', 'clickToCall', 'originateFailed']);

/**
 * The call-tracking core: inputs in (normalized AMI events, click-to-call, resync, user-map changes), effects out.
 * No I/O, no clock (time comes with each input), and nothing read from outside during an input, so a recorded
 * trace replays identically. State is mutated in place for speed; nothing else touches it.
 */
export class CallTracker {
  private readonly core: Core;

  constructor(opts: TrackerOptions) {
    this.core = createCore(opts);
  }

  handle(input: CoreInput): Effect[] {
    const turn = newTurn(input.kind, input.at);
    if (!NOT_FROM_PBX.has(input.kind) && input.at > this.core.lastEventAt) this.core.lastEventAt = input.at;
    try {
      dispatch(this.core, turn, input);
    } catch (err) {
      if (!(err instanceof TransitionError)) throw err;
      // Only the offending call is dropped; the daemon and every other call go on.
      const call = this.core.calls.get(err.linkedid);
      if (call) forgetCall(this.core, call, true);
      else this.core.calls.end(err.linkedid);
      turn.out.push({ type: 'callPoisoned', linkedid: err.linkedid, reason: err.message });
    }
    if (turn.evictedCalls > 0 || turn.evictedChannels > 0) {
      this.core.evicted.calls += turn.evictedCalls;
      this.core.evicted.channels += turn.evictedChannels;
      turn.out.push({ type: 'evicted', calls: turn.evictedCalls, channels: turn.evictedChannels });
    }
    return turn.out;
  }

  get activeCalls(): number {
    return this.core.calls.size;
  }

  get trackedChannels(): number {
    return this.core.channels.size;
  }

  /** Time of the last Asterisk-side input: the best known end for calls that vanish meanwhile. */
  get lastEventTime(): number {
    return this.core.lastEventAt;
  }

  get limits(): Readonly<TrackingLimits> {
    return this.core.limits;
  }

  /** Calls and channels evicted since the start because the limits were reached. */
  get evicted(): Readonly<{ calls: number; channels: number }> {
    return this.core.evicted;
  }

  /** The user map the core names users by (the last `userMap` input, or the restored snapshot's). */
  userMap(): Record<string, number> {
    return this.core.users.toJSON();
  }

  /** Uniqueids tracked now: what a resync may declare gone. */
  channelIds(): string[] {
    return this.core.channels.ids();
  }

  exportState(): TrackerSnapshot {
    return exportCore(this.core);
  }

  /** The calls in progress as in exportState, alone: what the live view reads twice a second while a page is open. */
  exportCalls(): CallJson[] {
    return exportCalls(this.core);
  }

  /** Into a tracker that has seen no input yet (the daemon's start). */
  importState(s: TrackerSnapshot): void {
    importCore(this.core, s);
  }
}
