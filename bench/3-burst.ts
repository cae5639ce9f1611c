import { createBitrixClient } from '../src/bitrix/client.js';
import { LeakyBucket } from '../src/bitrix/limiter.js';
import { startBitrixEmulator, type BitrixEmulator } from '../src/sim/bitrix-emulator.js';
import { NaiveSender } from './lib/naive-sender.js';
import { shownCards } from './lib/portal-log.js';
import { agentUsers, startRig } from './lib/rig.js';
import { preciseNow, sleep, until } from './lib/stats.js';
import { agentCalled, callStart, dialBegin, newCall, type SyntheticCall } from './lib/synthetic-calls.js';
import { row, textRow, type BenchOptions, type Row } from './lib/types.js';

/**
 * Item 3: a burst of 100 calls in 1 s (one every 10 ms) into a 10-member ringall queue: 1000 AgentCalled +
 * 1000 DialBegin. The emulator enforces the portal's leaky bucket (2 requests/s, burst 50, 503 beyond it); the
 * bridge runs with its default limiter (the same numbers, 2 slots kept free). Measured at the emulator: when the
 * last of the 1000 cards (call x member) was shown, HTTP requests used, 503s, and cards never shown (lost).
 *
 * Baseline: the same load sent one command per request (register, then one show per member) by a naive sender
 * using the bridge's own client and limiter. At 2 requests/s its 1100 requests need about 9 minutes, so it runs
 * on a virtual clock K times faster than real time, shared by the emulator's bucket, the sender's limiter and
 * its sleeps: the leaky-bucket arithmetic is unchanged and its times are reported in virtual seconds. (Network
 * time is stretched K times too, which can only make the baseline look slower by that small amount.)
 */

const ITEM = '3 burst';
const CALLS = 100;
const SPACING_MS = 10;
const PORTAL_LIMIT = { perSecond: 2, burst: 50 };

interface Outcome {
  lastCardS: number | null;
  requests: number;
  status503: number;
  lost: number;
}

function outcome(portal: BitrixEmulator, cards: Map<string, number>, expected: number, t0: number): Outcome {
  const times = [...cards.values()];
  return {
    lastCardS: cards.size === expected ? (Math.max(...times) - t0) / 1000 : null,
    requests: portal.requests.length,
    status503: portal.requests.filter((r) => r.status === 503).length,
    lost: expected - cards.size,
  };
}

async function bridgeSide(exts: string[], users: ReturnType<typeof agentUsers>, timeoutMs: number, log: (l: string) => void): Promise<Outcome> {
  const rig = await startRig({ portalRateLimit: PORTAL_LIMIT, bridgeRateLimit: PORTAL_LIMIT, users: users.users, extensions: users.extensions, portalClock: preciseNow });
  try {
    const calls: SyntheticCall[] = [];
    for (let i = 0; i < CALLS; i++) calls.push(newCall('support', exts));
    const t0 = preciseNow();
    for (let i = 0; i < CALLS; i++) {
      const wait = t0 + i * SPACING_MS - preciseNow();
      if (wait >= 1) await sleep(wait);
      const c = calls[i]!;
      for (const m of callStart(c)) rig.pbx.emitEvent(m);
      for (const m of c.members) {
        rig.pbx.emitEvent(agentCalled(c, m));
        rig.pbx.emitEvent(dialBegin(c, m));
      }
    }
    const expected = CALLS * exts.length;
    let scan = { cards: new Map<string, number>(), next: 0 };
    await until(() => {
      scan = shownCards(rig.portal, scan.cards, scan.next);
      return scan.cards.size >= expected;
    }, timeoutMs, 10);
    const o = outcome(rig.portal, scan.cards, expected, t0);
    const batches = rig.portal.requests.filter((r) => r.restMethod === 'batch').length;
    log(`  bridge: last card ${o.lastCardS?.toFixed(3) ?? 'never'} s, ${o.requests} requests (${batches} batches), ${o.status503} x 503, ${o.lost} lost`);
    return o;
  } finally {
    await rig.stop();
  }
}

async function naiveSide(exts: string[], users: ReturnType<typeof agentUsers>, speedup: number, timeoutMs: number, log: (l: string) => void): Promise<Outcome> {
  const realStart = preciseNow();
  const virtual = (): number => realStart + (preciseNow() - realStart) * speedup;
  const portal = await startBitrixEmulator({ users: users.users, rateLimit: PORTAL_LIMIT, clock: virtual });
  try {
    const client = createBitrixClient({
      webhookUrl: portal.webhookUrl,
      limiter: new LeakyBucket(PORTAL_LIMIT, virtual),
      sleep: (ms) => sleep(ms / speedup),
    });
    const sender = new NaiveSender(client, 2);
    const userIds = exts.map((_, i) => 11 + i);
    const t0 = virtual();
    for (let i = 0; i < CALLS; i++) {
      const wait = (t0 + i * SPACING_MS - virtual()) / speedup;
      if (wait >= 1) await sleep(wait);
      const c = newCall('support', exts);
      sender.ringing(c.linkedid, c.phone, userIds, Date.now());
    }
    const expected = CALLS * exts.length;
    let scan = { cards: new Map<string, number>(), next: 0 };
    await until(() => {
      scan = shownCards(portal, scan.cards, scan.next);
      return scan.cards.size >= expected;
    }, timeoutMs, 20);
    const o = outcome(portal, scan.cards, expected, t0);
    log(`  naive (virtual clock x${speedup}): last card ${o.lastCardS?.toFixed(1) ?? 'never'} s, ${o.requests} requests, ${o.status503} x 503, ${o.lost} lost`);
    return o;
  } finally {
    await portal.close();
  }
}

export async function run(opts: BenchOptions): Promise<Row[]> {
  const users = agentUsers(10);
  const bridge = await bridgeSide(users.exts, users, 60_000, opts.log);
  const speedup = opts.quick ? 200 : 25;
  const naive = await naiveSide(users.exts, users, speedup, 120_000, opts.log);
  const goal = { op: '<=' as const, target: 2, text: '<= 2 s' };
  const lostGoal = { op: '<=' as const, target: 0, text: '0 (nothing lost)' };
  const last = (o: Outcome, who: string, note?: string): Row =>
    o.lastCardS === null
      ? textRow(ITEM, `${who}: last of 1000 cards shown after`, `not all shown (${o.lost} missing)`, { goal: goal.text, met: 'no' })
      : row(ITEM, `${who}: last of 1000 cards shown after`, o.lastCardS, 's', goal, note);
  return [
    last(bridge, 'bridge', '100 calls in 1 s x 10-member ringall; portal bucket 2/s, burst 50; measured from the first event to the last show executed'),
    row(ITEM, 'bridge: HTTP requests used', bridge.requests, '', undefined, undefined, 0),
    row(ITEM, 'bridge: 503 responses', bridge.status503, '', undefined, undefined, 0),
    row(ITEM, 'bridge: cards lost', bridge.lost, '', lostGoal, undefined, 0),
    last(naive, 'baseline one command per request', `virtual clock x${speedup} (see docs/benchmarks.md); same client and limiter, no batching`),
    row(ITEM, 'baseline: HTTP requests used', naive.requests, '', undefined, undefined, 0),
    row(ITEM, 'baseline: 503 responses', naive.status503, '', undefined, undefined, 0),
    row(ITEM, 'baseline: cards lost', naive.lost, '', lostGoal, undefined, 0),
  ];
}
