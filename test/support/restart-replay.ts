import type { AmiMessage } from '../../src/ami/types.js';
import type { CoreInput, LiveChannel } from '../../src/core/events.js';
import { normalize } from '../../src/core/normalize.js';
import type { CallTracker } from '../../src/core/tracker.js';
import { channelList, lastCallList } from '../../src/daemon/resync.js';
import { traceMessages, traceSessions, traceTracker, type TimedEffect } from './traces.js';

/**
 * Replays a recorded scenario the way src/daemon/ami-resync.ts lives through it. A scenario recorded over several AMI
 * connections (`<name>.ami`, `<name>.2.ami`, ...: the daemon killed and started again) is replayed with the core's
 * state saved (exportState, through JSON as in the state database) and loaded into a new core at each new
 * connection; once that connection's CoreShowChannels answer is complete (and the QueueStatus answer after it, if
 * the recording asked for one, as the daemon does), the core gets `resync` with the channels the answer lists and the
 * queue members' last calls (read by the daemon's own channelList and lastCallList), the channels it knew when the
 * list was asked for, `blindSince` = the last event time of the saved state (the daemon's after a restart) and `at`
 * = the time of the last event seen on the new connection (its login: when the daemon has the lists). A
 * one-connection trace replays as `replay()` does. `t` is seconds since the first input, to the millisecond.
 */

export interface ReplayHooks {
  /** Before each input of the trace, with the core that takes it and the input's time: `feed` gives the core more. */
  before?(tracker: CallTracker, at: number, feed: (input: CoreInput) => void): void;
  /** After the last input. */
  after?(tracker: CallTracker, feed: (input: CoreInput) => void): void;
  /** Channels Asterisk lists at a resync on top of the recorded ones. */
  alsoLive?(): LiveChannel[];
}

export function replayTrace(name: string, make: () => CallTracker = () => traceTracker(), hooks: ReplayHooks = {}): TimedEffect[] {
  const out: TimedEffect[] = [];
  let t0: number | undefined;
  let tracker = make();
  const feed = (input: CoreInput, labelAt = input.at): void => {
    t0 ??= labelAt;
    for (const effect of tracker.handle(input)) out.push({ t: Math.round(labelAt - t0) / 1000, effect });
  };
  const feedTrace = (input: CoreInput, labelAt = input.at): void => {
    hooks.before?.(tracker, labelAt, feed);
    feed(input, labelAt);
  };
  for (const [i, session] of traceSessions(name).entries()) {
    if (i > 0) {
      const saved = JSON.parse(JSON.stringify(tracker.exportState())) as ReturnType<CallTracker['exportState']>;
      tracker = make();
      tracker.importState(saved);
    }
    const blindSince = tracker.lastEventTime;
    const messages = traceMessages(session);
    let lastSeen = blindSince;
    let channels: { id: string; known: string[]; items: AmiMessage[] } | undefined;
    let queues: { id: string; items: AmiMessage[] } | undefined;
    const resync = (lastCalls: AmiMessage[]): void => {
      const live = [...channelList(channels!.items), ...(hooks.alsoLive?.() ?? [])];
      feedTrace({ kind: 'resync', at: lastSeen, blindSince, live, known: channels!.known, lastCalls: lastCallList(lastCalls) }, lastSeen);
    };
    for (const [n, msg] of messages.entries()) {
      const ts = Number(msg['Timestamp']);
      if (Number.isFinite(ts) && ts > 0) lastSeen = Math.round(ts * 1000);
      if (i > 0 && channels === undefined && isListStart(msg, 'Channels will follow')) {
        channels = { id: String(msg['ActionID']), known: tracker.channelIds(), items: [] };
        continue;
      }
      if (channels !== undefined && queues === undefined && isListStart(msg, 'Queue status will follow')) {
        queues = { id: String(msg['ActionID']), items: [] };
        continue;
      }
      const list = msg['ActionID'] === channels?.id ? channels : msg['ActionID'] === queues?.id ? queues : undefined;
      if (list !== undefined && msg['Event'] !== undefined) {
        list.items.push(msg);
        // The daemon feeds the resync once it has both answers (or the channels only, if nobody asked for queues).
        if (msg['Event'] === 'QueueStatusComplete') resync(list.items);
        else if (msg['Event'] === 'CoreShowChannelsComplete' && !messages.slice(n).some((m) => isListStart(m, 'Queue status will follow'))) resync([]);
        continue;
      }
      const input = normalize(msg, 0);
      if (input) feedTrace(input);
    }
  }
  hooks.after?.(tracker, feed);
  return out;
}

/** What the core gives for a trace now, in the expected file's format: one timed effect per line. */
export function effectsText(name: string): string {
  return replayTrace(name)
    .map((e) => `${JSON.stringify(e)}\n`)
    .join('');
}

/** The Response that opens an action's list: CoreShowChannels' ('Channels will follow') or QueueStatus'. */
function isListStart(msg: AmiMessage, message: string): boolean {
  return msg['Event'] === undefined && msg['EventList'] === 'start' && msg['Message'] === message;
}
