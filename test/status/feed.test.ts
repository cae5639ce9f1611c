import { describe, expect, it } from 'vitest';
import type { StreamSink } from '../../src/http/types.js';
import { StatusFeed, type FeedTimers } from '../../src/status/feed.js';
import type { StatusSnapshot } from '../../src/status/types.js';

/** The server-sent events feed with hand-driven timers: when it sends, to whom, and its bound. */

function fakeTimers() {
  const running = new Map<number, { fn: () => void; ms: number }>();
  let next = 0;
  const timers: FeedTimers = {
    every: (fn, ms) => (running.set(++next, { fn, ms }), next),
    clear: (h) => void running.delete(h as number),
  };
  const fire = (ms: number) => [...running.values()].filter((t) => t.ms === ms).forEach((t) => t.fn());
  return { timers, running, fire };
}

function sink() {
  const chunks: string[] = [];
  let close: (() => void) | undefined;
  let ended = false;
  const s: StreamSink = { write: (c) => (chunks.push(c), true), end: () => void ((ended = true), close?.()), onClose: (l) => void (close = l) };
  return { s, chunks, gone: () => close?.(), ended: () => ended };
}

function setUp(maxClients = 2) {
  let depth = 0;
  let now = 0;
  const t = fakeTimers();
  const feed = new StatusFeed({
    snapshot: () => ({ version: 1, generatedAt: ++now, outbox: { depth } }) as unknown as StatusSnapshot,
    maxClients,
    tickMs: 500,
    keepAliveMs: 15_000,
    timers: t.timers,
  });
  return { feed, t, setDepth: (d: number) => (depth = d) };
}

const events = (chunks: string[]) => chunks.filter((c) => c.startsWith('event: status')).map((c) => JSON.parse(c.split('data: ')[1]!).outbox.depth as number);

describe('StatusFeed', () => {
  it('a new page gets the state at once; an unchanged state is not sent again, a changed one is sent to every page once', () => {
    const { feed, t, setDepth } = setUp();
    const a = sink();
    feed.attach(a.s);
    expect(events(a.chunks)).toEqual([0]);
    t.fire(500);
    t.fire(500);
    expect(events(a.chunks)).toEqual([0]);
    const b = sink();
    feed.attach(b.s);
    expect(events(b.chunks)).toEqual([0]);
    setDepth(3);
    setDepth(4); // two changes within one tick: one event
    t.fire(500);
    expect([events(a.chunks), events(b.chunks)]).toEqual([[0, 4], [0, 4]]);
  });

  it('a change seen when a page joins reaches the pages already open too', () => {
    const { feed, setDepth } = setUp();
    const a = sink();
    feed.attach(a.s);
    setDepth(2);
    const b = sink();
    feed.attach(b.s);
    expect([events(a.chunks), events(b.chunks)]).toEqual([[0, 2], [2]]);
  });

  it('sends a keep-alive comment, reads nothing while no page is open, and refuses pages past its bound', () => {
    const { feed, t } = setUp(1);
    expect(t.running.size).toBe(0);
    const a = sink();
    expect(feed.attach(a.s)).toBe(true);
    t.fire(15_000);
    expect(a.chunks).toContain(': keep-alive\n\n');
    const b = sink();
    expect(feed.attach(b.s)).toBe(false);
    expect([b.ended(), b.chunks]).toEqual([true, []]);
    a.gone();
    expect([feed.size, t.running.size]).toEqual([0, 0]);
    expect(feed.attach(sink().s)).toBe(true);
  });

  it('stop ends every page', () => {
    const { feed } = setUp();
    const a = sink();
    feed.attach(a.s);
    feed.stop();
    expect([a.ended(), feed.size]).toEqual([true, 0]);
  });
});
