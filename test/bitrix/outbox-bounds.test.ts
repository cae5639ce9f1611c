import { describe, expect, it } from 'vitest';
import { MemoryOutboxStore } from '../../src/bitrix/outbox-entry.js';
import { createMetrics } from '../../src/obs/metrics.js';
import { contractError, fakeClient, FINISH, logSink, makeOutbox, ok, REGISTER, SHOW } from './outbox-fakes.js';

/** The outbox never grows without limit: waiting commands and parked ones each have a bound, with a log and a metric. */

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('the outbox bounds', () => {
  it('drops new cards past 80 % of maxEntries and refuses every command at the bound, logged and counted', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const { lines, logger } = logSink();
    const { client, batches } = fakeClient(ok);
    // The portal is never reached: the limiter holds everything back, so commands pile up.
    const o = makeOutbox(client, { maxEntries: 10, limiterDelay: () => 60_000, logger, hooks: metrics.outboxHooks() });
    for (let i = 0; i < 8; i++) expect(o.enqueue(`L${i}`, 'register', REGISTER, {}, false)).toBe(true);
    expect(o.depth).toBe(8);
    expect(o.enqueue('L0', 'show', SHOW, { USER_ID: [11] })).toBe(false); // 8 of 10: cards go first
    expect(o.enqueue('L1', 'finish', FINISH, { USER_ID: 11 })).toBe(true);
    expect(o.enqueue('L8', 'register', REGISTER, {}, false)).toBe(true);
    expect(o.depth).toBe(10);
    expect(o.enqueue('L9', 'register', REGISTER, {}, false)).toBe(false); // at the bound: refused
    expect(o.enqueue('L2', 'finish', FINISH, { USER_ID: 12 })).toBe(false);
    expect(o.depth).toBe(10);
    expect(lines.filter((l) => l.level === 'error' && /outbox is full/.test(l.msg)).map((l) => l.obj)).toEqual([
      { depth: 8, max: 10, kind: 'show' },
      { depth: 10, max: 10, kind: 'register' },
      { depth: 10, max: 10, kind: 'finish' },
    ]);
    const text = await metrics.scrape();
    expect(sample(text, 'b24bridge_outbox_dropped_total{kind="show"}')).toBe(1);
    expect(sample(text, 'b24bridge_outbox_dropped_total{kind="register"}')).toBe(1);
    expect(sample(text, 'b24bridge_outbox_dropped_total{kind="finish"}')).toBe(1);
    o.stop();
    expect(batches).toEqual([]);
  });

  it('says whether a kind would find room, by the same bound, without dropping or logging anything', () => {
    const metrics = createMetrics({ processMetrics: false });
    const { lines, logger } = logSink();
    const { client } = fakeClient(ok);
    const o = makeOutbox(client, { maxEntries: 10, limiterDelay: () => 60_000, logger, hooks: metrics.outboxHooks() });
    for (let i = 0; i < 8; i++) o.enqueue(`L${i}`, 'register', REGISTER, {}, false);
    expect([o.hasRoomFor('show'), o.hasRoomFor('transcript'), o.hasRoomFor('register')]).toEqual([false, true, true]);
    o.enqueue('L8', 'register', REGISTER, {}, false);
    o.enqueue('L9', 'register', REGISTER, {}, false);
    expect([o.hasRoomFor('transcript'), o.hasRoomFor('finish')]).toEqual([false, false]);
    // The answer matches what enqueue then does.
    expect(o.enqueue('L0', 'transcript', 'telephony.call.attachTranscription', { CALL_ID: 'x', MESSAGES: [] }, false)).toBe(false);
    expect(lines.filter((l) => /outbox is full/.test(l.msg))).toHaveLength(1); // the enqueue's, not the questions'
    o.stop();
  });

  it('keeps at most maxParked parked commands, dropping the oldest with a log line and the metric', async () => {
    const metrics = createMetrics({ processMetrics: false });
    const { lines, logger } = logSink();
    const store = new MemoryOutboxStore();
    const { client } = fakeClient((cmds) => ({ results: {}, errors: Object.fromEntries(cmds.map((c) => [c.key, contractError(c.method, 'User is not found or is not active')])) }));
    let now = 1_000;
    const o = makeOutbox(client, { maxParked: 3, logger, hooks: metrics.outboxHooks(), clock: () => now }, store);
    for (let i = 0; i < 5; i++) {
      o.bindCallId(`L${i}`, `externalCall.${i}`);
      o.enqueue(`L${i}`, 'finish', FINISH, { USER_ID: 999 });
      expect(await o.drain(1000)).toBe(true);
      now += 1_000;
    }
    expect(o.parkedEntries().map((p) => p.key)).toEqual(['L2', 'L3', 'L4']);
    expect(store.load().parked.map((p) => p.key).sort()).toEqual(['L2', 'L3', 'L4']);
    const drops = lines.filter((l) => /too many parked/.test(l.msg));
    expect(drops.map((l) => (l.obj as { dropped: Array<{ key: string }> }).dropped.map((d) => d.key))).toEqual([['L0'], ['L1']]);
    expect(sample(await metrics.scrape(), 'b24bridge_outbox_dropped_total{kind="finish"}')).toBe(2);
    // A dropped command is gone: asking to retry it changes nothing.
    expect(o.retryParked(1)).toBe(false);
  });

  it('drops a parked register together with the commands parked behind it', async () => {
    const { client } = fakeClient((cmds) => ({ results: {}, errors: Object.fromEntries(cmds.map((c) => [c.key, contractError(c.method, 'Unknown TYPE')])) }));
    let now = 1_000;
    const o = makeOutbox(client, { maxParked: 3, clock: () => now });
    o.enqueue('A', 'register', REGISTER, {}, false);
    await o.drain(1000);
    o.enqueue('A', 'finish', FINISH, { USER_ID: 1 });
    now += 1_000;
    o.bindCallId('B', 'externalCall.b');
    o.enqueue('B', 'finish', FINISH, { USER_ID: 1 });
    await o.drain(1000);
    now += 1_000;
    o.bindCallId('C', 'externalCall.c');
    o.enqueue('C', 'finish', FINISH, { USER_ID: 1 });
    await o.drain(1000);
    expect(o.parkedEntries().map((p) => [p.key, p.kind])).toEqual([
      ['B', 'finish'],
      ['C', 'finish'],
    ]);
  });
});
