import type { AmiClient } from '../../src/ami/client.js';
import type { AmiMessage } from '../../src/ami/types.js';
import type { CoreInput } from '../../src/core/events.js';
import { normalize } from '../../src/core/normalize.js';
import type { CallTracker } from '../../src/core/tracker.js';
import { liveChannels } from '../../src/daemon/resync.js';
import { replay, traceMessages, traceSessions, traceTracker, type TimedEffect } from './traces.js';

/**
 * Replays a trace recorded over several AMI connections (`<name>.ami`, `<name>.2.ami`, ...: the daemon killed and
 * started again) the way src/daemon/app.ts lives through it: the core's state is saved (exportState, through JSON as
 * in the state database) and loaded into a new core; on the next connection, once the CoreShowChannels answer is
 * complete, the core gets `resync` with the channels the answer lists (read by the daemon's own liveChannels), the
 * channels it knew when the list was asked for, and `at` = the last event time of the saved state (the daemon's
 * `blindSince` after a restart). Effects of the resync are labelled with the time of the last event seen on the new
 * connection (its login). A one-connection trace replays as `replay()` does.
 */
export async function replayTrace(name: string, make: () => CallTracker = () => traceTracker()): Promise<TimedEffect[]> {
  const sessions = traceSessions(name);
  if (sessions.length === 1) return replay(name, make());
  const out: TimedEffect[] = [];
  let t0: number | undefined;
  let tracker = make();
  const feed = (input: CoreInput, labelAt: number): void => {
    t0 ??= labelAt;
    for (const effect of tracker.handle(input)) out.push({ t: Math.round(labelAt - t0) / 1000, effect });
  };
  for (const [i, session] of sessions.entries()) {
    if (i > 0) {
      const saved = JSON.parse(JSON.stringify(tracker.exportState())) as ReturnType<CallTracker['exportState']>;
      tracker = make();
      tracker.importState(saved);
    }
    const blindSince = tracker.lastEventTime;
    let lastSeen = blindSince;
    let list: { id: string; known: string[]; items: AmiMessage[] } | undefined;
    for (const msg of traceMessages(session)) {
      const ts = Number(msg['Timestamp']);
      if (Number.isFinite(ts) && ts > 0) lastSeen = Math.round(ts * 1000);
      if (i > 0 && list === undefined && isChannelListStart(msg)) {
        list = { id: String(msg['ActionID']), known: tracker.channelIds(), items: [] };
        continue;
      }
      if (list !== undefined && msg['ActionID'] === list.id && msg['Event'] !== undefined) {
        list.items.push(msg);
        if (msg['Event'] === 'CoreShowChannelsComplete') {
          const live = await liveChannels(answering(list.items), 1000);
          feed({ kind: 'resync', at: blindSince, live, known: list.known }, lastSeen);
        }
        continue;
      }
      const input = normalize(msg, 0);
      if (input) feed(input, input.at);
    }
  }
  return out;
}

/** The Response that opens CoreShowChannels' list. */
function isChannelListStart(msg: AmiMessage): boolean {
  return msg['Event'] === undefined && msg['EventList'] === 'start' && msg['Message'] === 'Channels will follow';
}

/** An AMI client that answers CoreShowChannels with the recorded list. */
function answering(events: AmiMessage[]): AmiClient {
  return {
    isConnected: true,
    action: async () => ({ response: { Response: 'Success', EventList: 'start' }, events }),
  } as unknown as AmiClient;
}
