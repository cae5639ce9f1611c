import type { ParkedEntry } from '../src/bitrix/outbox-entry.js';
import { normalize } from '../src/core/normalize.js';
import { buildStatus } from '../src/status/snapshot.js';
import { traceTracker } from '../test/support/traces.js';
import { percentile } from './lib/stats.js';
import { agentCalled, callStart, dialBegin, newCall } from './lib/synthetic-calls.js';
import { row, textRow, type BenchOptions, type Row } from './lib/types.js';

/**
 * Item 12: what one tick of the live view costs while a page is open (src/status/feed.ts compares the state every
 * 0.5 s): tracker.exportCalls() + buildStatus() + the two JSON.stringify (the comparison key and the event), with the
 * core holding 1000 queue calls at once (its default tracking limit), each ringing three members with their cards
 * open (synthetic AMI events modelled on support_ringall_answer, through normalize and the real core), 50 parked
 * commands and 20 recent errors. Timed in this process with performance.now(), after a warm-up.
 */

const ITEM = '12 live view';

export async function run(opts: BenchOptions): Promise<Row[]> {
  const calls = opts.quick ? 200 : 1000;
  const rounds = opts.quick ? 50 : 300;
  const users: Record<string, number> = { '101': 11, '102': 12, '103': 13 };
  const tracker = traceTracker({ users });
  for (let i = 0; i < calls; i++) {
    const c = newCall('support', ['101', '102', '103']);
    const events = [...callStart(c), ...c.members.flatMap((m) => [agentCalled(c, m), dialBegin(c, m)])];
    for (const msg of events) {
      const input = normalize(msg, Date.now());
      if (input) tracker.handle(input);
    }
  }
  const parked: ParkedEntry[] = Array.from({ length: 50 }, (_, i) => ({
    ...{ seq: i + 1, key: `1700000000.${i}`, kind: 'finish' as const, method: 'telephony.externalcall.finish', params: {}, needsCallId: true },
    ...{ attempts: 1, notBefore: 0, createdAt: 0, parkedAt: 0, error: 'CONTRACT: User is not found or is not active' },
  }));
  const errors = Array.from({ length: 20 }, (_, i) => ({ level: 'warn' as const, message: `portal: batch NETWORK (HTTP none) #${i}`, count: 3, firstAt: 0, lastAt: 1 }));
  const tick = (): { listed: number; bytes: number } => {
    const s = buildStatus({
      now: Date.now(),
      ami: { connected: true, asteriskVersion: '22.10.1', bootedAt: 0, since: 0 },
      portal: { reachable: true, problem: undefined, mode: 'webhook', token: null, requestsLastMinute: 60, budgetPerMinute: 120, burst: 50, lastRefusal: undefined },
      calls: tracker.exportCalls(),
      callsTracked: tracker.activeCalls,
      holds: new Map(),
      extensionOf: (u) => Object.keys(users).find((e) => users[e] === u),
      userOf: (e) => users[e],
      crmNameOf: () => undefined,
      setAside: [],
      outbox: { depth: 0, oldestCreatedAt: undefined, parked },
      recordingsWaiting: 0,
      transcriptsWaiting: 0,
      errors,
      tokenConfigured: true,
    });
    // The comparison key and the event, built as the feed builds them.
    const key = JSON.stringify({ ...s, generatedAt: 0 });
    const event = JSON.stringify(s);
    if (key.length === 0) throw new Error("empty state");
    return { listed: s.calls.filter((c) => c.state === 'ringing' && c.cards.length === 3).length, bytes: event.length };
  };
  let warm = tick();
  for (let i = 0; i < 20; i++) warm = tick();
  const { listed, bytes } = warm;
  // The numbers mean something only if the page would really list every call with its cards.
  if (listed !== calls) throw new Error(`live view bench: ${listed} of ${calls} calls listed as ringing with three cards`);
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    tick();
    times.push(performance.now() - t);
  }
  opts.log(`live view: ${listed} calls, ${rounds} ticks`);
  const note = `${listed} ringing calls with 3 cards each, 50 parked, 20 errors; one tick = exportCalls + buildStatus + 2 x JSON.stringify; ${rounds} ticks`;
  return [
    row(ITEM, `one tick, ${listed} calls: p50`, percentile(times, 50), 'ms', undefined, note),
    row(ITEM, `one tick, ${listed} calls: p99`, percentile(times, 99), 'ms'),
    textRow(ITEM, 'event size', `${(bytes / 1024).toFixed(0)} KiB`, { raw: bytes, unit: 'B' }),
  ];
}
