import { describe, expect, it } from 'vitest';
import type { Outbox } from '../../src/bitrix/outbox.js';
import { Runtime } from '../../src/daemon/runtime.js';
import { captureLogger } from '../support/logger.js';
import { traceTracker } from '../support/traces.js';

/** The daemon's side of the tracking limits: counted in the runtime's stats, logged once per streak. */

function newChannel(i: number) {
  const id = `flood.${i}`;
  return { Event: 'Newexten', Channel: `PJSIP/7-${i}`, Uniqueid: id, Linkedid: id, Context: 'some-ivr', Exten: 's' };
}

describe('evictions in the runtime', () => {
  it('counts every evicted call and channel and logs a streak once, again only after a quiet minute', () => {
    const sink = captureLogger('warn');
    let now = 0;
    const outbox = { enqueue: () => undefined, bindCallId: () => undefined } as unknown as Outbox;
    const tracker = traceTracker({ limits: { calls: 10, channels: 80 } });
    const runtime = new Runtime({ tracker, outbox, logger: sink.logger, clock: () => now, commands: { addToChat: true }, recordingsEnabled: false });
    const streak = (from: number, to: number) => {
      for (let i = from; i < to; i++, now += 100) runtime.handleAmiEvent(newChannel(i));
    };
    streak(0, 50);
    expect(runtime.stats).toMatchObject({ evictedCalls: 40, evictedChannels: 40 });
    const logged = () => sink.lines().filter((l) => String(l['msg']).startsWith('tracking limit reached'));
    expect(logged()).toHaveLength(1);
    expect(logged()[0]).toMatchObject({ level: 40, calls: 1, channels: 1, limits: { calls: 10, channels: 80 } });
    now += 61_000;
    streak(50, 60);
    expect(runtime.stats).toMatchObject({ evictedCalls: 50, evictedChannels: 50 });
    expect(logged()).toHaveLength(2);
    expect(tracker.activeCalls).toBe(10);
  });
});
