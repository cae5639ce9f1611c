import type { AmiClient } from '../ami/client.js';
import { field } from '../ami/types.js';
import type { ChannelSnapshot } from '../core/events.js';
import { snapshot } from '../core/normalize.js';

/**
 * The channels Asterisk has right now (CoreShowChannels), as core snapshots. Used after every (re)connect:
 * what vanished while we were blind is finished, what appeared is picked up.
 */
export async function liveChannels(ami: AmiClient, timeoutMs: number): Promise<ChannelSnapshot[]> {
  const { events } = await ami.action('CoreShowChannels', {}, { timeoutMs });
  const out: ChannelSnapshot[] = [];
  for (const e of events) {
    if (field(e, 'Event') !== 'CoreShowChannel') continue;
    const snap = snapshot(e);
    if (snap) out.push(snap);
  }
  return out;
}
