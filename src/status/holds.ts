import type { AmiMessage } from '../ami/types.js';
import { field } from '../ami/types.js';
import { BoundedMap } from '../util/bounded-map.js';

/**
 * Which calls are on hold, from Asterisk's Hold/Unhold events (the core does not need hold to drive Bitrix24, so it
 * does not track it; the live view does). By Linkedid, with the time the hold began; a call's entry goes when its
 * last held channel is taken off hold or hangs up. Bounded like every map of the daemon.
 */
const MAX_HELD_CHANNELS = 32;

export class HoldBook {
  /** Linkedid -> held channel Uniqueid -> since. */
  private readonly calls: BoundedMap<string, Map<string, number>>;

  constructor(private readonly clock: () => number) {
    this.calls = new BoundedMap({ max: 2000, clock });
  }

  onEvent(msg: AmiMessage): void {
    const event = field(msg, 'Event');
    if (event !== 'Hold' && event !== 'Unhold' && event !== 'Hangup') return;
    const linkedid = field(msg, 'Linkedid');
    const uniqueid = field(msg, 'Uniqueid');
    if (!linkedid || !uniqueid) return;
    const held = this.calls.get(linkedid);
    if (event === 'Hold') {
      const next = held ?? new Map<string, number>();
      // A real call has a handful of channels; a hostile stream of Holds on one Linkedid must not grow without bound.
      if (!next.has(uniqueid) && next.size < MAX_HELD_CHANNELS) next.set(uniqueid, this.clock());
      this.calls.set(linkedid, next);
      return;
    }
    if (!held?.delete(uniqueid)) return;
    if (held.size === 0) this.calls.delete(linkedid);
  }

  /** Linkedid -> since when (the earliest hold of its channels still held). */
  held(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [linkedid, channels] of this.calls.entries()) out.set(linkedid, Math.min(...channels.values()));
    return out;
  }
}
