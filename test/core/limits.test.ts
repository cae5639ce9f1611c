import { describe, expect, it } from 'vitest';
import type { Effect } from '../../src/core/effects.js';
import type { ChannelSnapshot, CoreInput } from '../../src/core/events.js';
import type { CallTracker } from '../../src/core/tracker.js';
import { traceTracker } from '../support/traces.js';

/** The tracking limits on hand-built events: what goes first, what is finished, what is never touched. */

function chan(uniqueid: string, linkedid: string, name: string, context: string, exten = '', callerIdNum = ''): ChannelSnapshot {
  return { uniqueid, linkedid, name, context, exten, callerIdNum, callerIdName: '' };
}

const trunkOf = (id: string) => chan(`${id}.t`, id, `PJSIP/trunk-${id}`, 'from-trunk', '74951230000', '79990001122');
const internalOf = (id: string) => chan(`${id}.i`, id, `PJSIP/104-${id}`, 'from-internal', '105');
const run = (tracker: CallTracker, inputs: CoreInput[]): Effect[] => inputs.flatMap((i) => tracker.handle(i));
const calls = (tracker: CallTracker) => tracker.exportState().calls.map((c) => c.linkedid);

describe('the tracking limits', () => {
  it('evict the idle calls one input mentioned first, then the other idle calls, oldest first, and never the known ones while idle ones are left', () => {
    const tracker = traceTracker({ limits: { calls: 3, channels: 100 } });
    const known = trunkOf('known');
    run(tracker, [
      { kind: 'channel', at: 1, channel: known },
      { kind: 'dialBegin', at: 2, caller: known, dest: chan('known.p', 'known', 'PJSIP/101-1', 'from-internal', '101') },
      { kind: 'channel', at: 3, channel: trunkOf('waiting') },
      { kind: 'queueJoin', at: 4, queue: 'support', caller: trunkOf('waiting') },
      { kind: 'channel', at: 5, channel: internalOf('noise1') },
    ]);
    expect(calls(tracker)).toEqual(['known', 'waiting', 'noise1']);
    // A new call: the noise (one input, idle) goes, not the call waiting in the queue, older as it is.
    expect(run(tracker, [{ kind: 'channel', at: 6, channel: internalOf('noise2') }])).toEqual([{ type: 'evicted', calls: 1, channels: 1 }]);
    expect(calls(tracker)).toEqual(['known', 'waiting', 'noise2']);
    // noise2 is mentioned again: both idle calls now have a history, and the older one goes.
    run(tracker, [{ kind: 'channel', at: 7, channel: internalOf('noise2') }]);
    expect(run(tracker, [{ kind: 'channel', at: 8, channel: internalOf('noise3') }])).toEqual([{ type: 'evicted', calls: 1, channels: 1 }]);
    expect(calls(tracker)).toEqual(['known', 'noise2', 'noise3']);
    // An evicted call was dropped, not ended: its next event tracks it again.
    run(tracker, [{ kind: 'channel', at: 9, channel: trunkOf('waiting') }]);
    expect(calls(tracker)).toEqual(['known', 'noise2', 'waiting']);
    expect(tracker.evicted).toEqual({ calls: 3, channels: 3 });
  });

  it('finish the oldest call Bitrix24 knows when no idle call is left, so its card closes and it is finished once', () => {
    const tracker = traceTracker({ limits: { calls: 1, channels: 100 } });
    const trunk = trunkOf('known');
    run(tracker, [
      { kind: 'channel', at: 1000, channel: trunk },
      { kind: 'dialBegin', at: 2000, caller: trunk, dest: chan('known.p', 'known', 'PJSIP/101-1', 'from-internal', '101') },
    ]);
    const effects = run(tracker, [{ kind: 'channel', at: 5000, channel: internalOf('next') }]);
    expect(effects).toEqual([
      { type: 'hide', linkedid: 'known', userIds: [11] },
      { type: 'finish', linkedid: 'known', userId: 1, durationSec: 0, status: '304' },
      expect.objectContaining({ type: 'callEnded', linkedid: 'known' }),
      { type: 'evicted', calls: 1, channels: 2 },
    ]);
    // Ended, not dropped: its late events start nothing.
    expect(run(tracker, [{ kind: 'hangup', at: 6000, channel: trunk, cause: 16 }])).toEqual([]);
    expect(calls(tracker)).toEqual(['next']);
  });

  it('never evict a call the current input is about, even past the limit', () => {
    const tracker = traceTracker({ limits: { calls: 1, channels: 100 } });
    const trunk = trunkOf('caller');
    run(tracker, [{ kind: 'channel', at: 1, channel: trunk }]);
    // The member's channel has a Linkedid of its own: a new call, while the caller's call gets the card.
    const member = chan('m.1', 'm.1', 'PJSIP/101-7', 'agents', '101');
    const effects = run(tracker, [{ kind: 'agentCalled', at: 2, queue: 'support', iface: 'PJSIP/101', caller: trunk, dest: member }]);
    expect(effects.filter((e) => e.type !== 'evicted').map((e) => e.type)).toEqual(['register', 'show']);
    expect(calls(tracker)).toEqual(['caller', 'm.1']);
    // The next new call brings the count back to the limit: the idle member call first, then the known one.
    const next = run(tracker, [{ kind: 'channel', at: 3, channel: internalOf('next') }]);
    expect(next.map((e) => e.type)).toEqual(['hide', 'finish', 'callEnded', 'evicted']);
    expect(next.at(-1)).toEqual({ type: 'evicted', calls: 2, channels: 2 });
    expect(calls(tracker)).toEqual(['next']);
  });

  it('keep a call flooded with channels to an eighth of the channel limit, never losing its customer', () => {
    const tracker = traceTracker({ limits: { calls: 10, channels: 64 } });
    const trunk = trunkOf('busy');
    run(tracker, [{ kind: 'channel', at: 1000, channel: trunk }]);
    for (let i = 0; i < 20; i++) {
      const leg = chan(`busy.${i}`, 'busy', `PJSIP/5${i}-1`, 'from-internal', `5${i}`);
      run(tracker, [{ kind: 'dialBegin', at: 1000 + i, caller: trunk, dest: leg }]);
    }
    expect(tracker.trackedChannels).toBe(8);
    expect(tracker.evicted).toEqual({ calls: 0, channels: 13 });
    const kept = tracker.exportState().calls[0]!.channels;
    expect(kept).toEqual(['busy.t', ...Array.from({ length: 7 }, (_, i) => `busy.${13 + i}`)]);
    const end = run(
      tracker,
      kept.map((id, i): CoreInput => ({ kind: 'hangup', at: 9000 + i, channel: id === trunk.uniqueid ? trunk : chan(id, 'busy', `PJSIP/5${id.slice(5)}-1`, 'from-internal'), cause: 16 })),
    );
    expect(end.map((e) => e.type)).toEqual(['register', 'finish', 'callEnded']);
  });
});
