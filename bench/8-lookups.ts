import type { SeedCrmEntity } from '../src/sim/bitrix-emulator.js';
import { UNSATURATED } from './lib/bridge-config.js';
import { probeFeature } from './lib/feature.js';
import { agentUsers, startRig, type Rig } from './lib/rig.js';
import { percentile } from './lib/stats.js';
import { fmt, notMeasured, type BenchOptions, type Row } from './lib/types.js';

/**
 * Item 8: the lookups the dialplan makes while a caller waits, GET /callerid?number=… (a name) and GET
 * /route?number=… (the responsible manager's extension), p50/p99, uncached and cached.
 *
 * The whole daemon in-process (startBridge, its HTTP server, crm.lookupToken sent as X-Token) against the Bitrix24
 * emulator seeded with 2000 contacts (numbers +7 999 100 xxxx, responsible one of 10 agents with extensions
 * 101-110); no portal rate limit, the bridge's own limiter far away. Timed on the client: fetch() before the
 * request -> the answer's body read (keep-alive connection, one request at a time).
 *  - uncached: each request a number not asked before (the route and callerid sets are disjoint, they share a
 *    cache): one telephony.externalCall.searchCrmEntities round trip to the emulator inside.
 *  - not found: distinct unseeded numbers; the emulator answers an empty list; "not in the CRM" is negative-cached.
 *  - cached: the same numbers asked again (within cacheTtlSec 300 / negativeCacheTtlSec 60).
 * Baseline: the same searchCrmEntities POSTed with fetch straight to the emulator (the portal floor; here in the
 * same process: a cloud portal adds its network round trip to every uncached lookup, and nothing to a cached one).
 */

const ITEM = '8 lookups';
const TOKEN = 'bench-lookup-token-0123456789abcdef';
const CONTACTS = 2000;

const seeded = (i: number) => `+7999100${String(i).padStart(4, '0')}`;
const unknown = (i: number) => `+7999200${String(i).padStart(4, '0')}`;

function contacts(agents: number): SeedCrmEntity[] {
  return Array.from({ length: CONTACTS }, (_, i) => ({
    ID: 10_000 + i,
    NAME: `Client${i}`,
    LAST_NAME: 'Bench',
    PHONE: [{ VALUE: seeded(i), VALUE_TYPE: 'WORK' }],
    ASSIGNED_BY_ID: 11 + (i % agents),
  }));
}

async function lookups(base: string, path: 'route' | 'callerid', numbers: string[], expect: (body: string, n: string) => boolean): Promise<number[]> {
  const out: number[] = [];
  for (const n of numbers) {
    const t = performance.now();
    const res = await fetch(`${base}/${path}?number=${encodeURIComponent(n)}`, { headers: { 'X-Token': TOKEN } });
    const body = await res.text();
    out.push(performance.now() - t);
    if (res.status !== 200 || !expect(body, n)) throw new Error(`lookups: /${path}?number=${n} answered ${res.status} ${JSON.stringify(body.slice(0, 80))}`);
  }
  return out;
}

async function portalFloor(rig: Rig, numbers: string[]): Promise<number[]> {
  const url = `${rig.portal.webhookUrl}telephony.externalCall.searchCrmEntities.json`;
  const out: number[] = [];
  for (const n of numbers) {
    const t = performance.now();
    const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ PHONE_NUMBER: n }) });
    const body = (await res.json()) as { result?: unknown[] };
    out.push(performance.now() - t);
    if (res.status !== 200 || !Array.isArray(body.result) || body.result.length === 0) throw new Error(`lookups: searchCrmEntities ${n} answered ${res.status}`);
  }
  return out;
}

function latencyRow(measure: string, samples: number[], note: string, log: (l: string) => void): Row {
  const p50 = percentile(samples, 50);
  const p99 = percentile(samples, 99);
  log(`  ${measure}: ${samples.length} samples, p50 ${p50.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms, max ${Math.max(...samples).toFixed(2)} ms`);
  return { item: ITEM, measure: `${measure}: p50 / p99`, value: `${fmt(p50, '')} / ${fmt(p99, 'ms')}`, raw: p99, unit: 'ms', goal: '', met: 'n/a', note: `${note}; ${samples.length} samples` };
}

export async function run(opts: BenchOptions): Promise<Row[]> {
  const probe = await probeFeature([new URL('../src/crm/lookup.ts', import.meta.url), new URL('../src/crm/routes.ts', import.meta.url)]);
  if (!probe.present) {
    return [
      notMeasured(ITEM, 'caller-name lookup p99, cached / uncached', '', probe.why),
      notMeasured(ITEM, 'route lookup p99, cached / uncached', '', probe.why),
    ];
  }
  const AGENTS = 10;
  const { users, extensions } = agentUsers(AGENTS);
  const rig = await startRig({
    portalRateLimit: false,
    bridgeRateLimit: UNSATURATED,
    users,
    extensions,
    crm: { contacts: contacts(AGENTS) },
    config: {
      crm: { lookupToken: TOKEN },
      http: { perAddressPerMinute: 1_000_000 },
    },
  });
  const rows: Row[] = [];
  try {
    const base = `http://127.0.0.1:${rig.bridge.endpoint.server.port}`;
    const n = opts.quick ? 60 : 300;
    const warm = 20;
    // Numbers 0..warm-1 warm up (JIT, keep-alive sockets, the client); then disjoint sets per measure.
    let next = 0;
    const take = (count: number) => Array.from({ length: count }, () => seeded(next++));
    const extOf = (num: string) => String(101 + ((Number(num.slice(-4)) % AGENTS) as number));
    const isName = (body: string, num: string) => body === `Client${Number(num.slice(-4))} Bench`;
    const isExt = (body: string, num: string) => body === extOf(num);

    await lookups(base, 'callerid', take(warm), isName);
    const nameNumbers = take(n);
    const routeNumbers = take(n);
    const unknownNumbers = Array.from({ length: n }, (_, i) => unknown(i));
    const nameUncached = await lookups(base, 'callerid', nameNumbers, isName);
    const nameCached = await lookups(base, 'callerid', nameNumbers, isName);
    const routeUncached = await lookups(base, 'route', routeNumbers, isExt);
    const routeCached = await lookups(base, 'route', routeNumbers, isExt);
    const noneUncached = await lookups(base, 'route', unknownNumbers, (body) => body === 'none');
    const noneCached = await lookups(base, 'callerid', unknownNumbers, (body) => body === '');
    const floor = await portalFloor(rig, take(n));

    rows.push(
      latencyRow('caller name, uncached (found)', nameUncached, 'GET /callerid, each number asked for the first time: one searchCrmEntities inside', opts.log),
      latencyRow('caller name, cached', nameCached, 'GET /callerid, the same numbers again', opts.log),
      latencyRow('route, uncached (found)', routeUncached, 'GET /route, each number asked for the first time: one searchCrmEntities inside', opts.log),
      latencyRow('route, cached', routeCached, 'GET /route, the same numbers again', opts.log),
      latencyRow('not in the CRM, uncached (/route)', noneUncached, 'GET /route for numbers not seeded: answer "none"', opts.log),
      latencyRow('not in the CRM, negative-cached (/callerid)', noneCached, 'GET /callerid for the same unseeded numbers: empty answer from the negative cache', opts.log),
      latencyRow('baseline: searchCrmEntities POST straight to the emulator', floor, `the portal floor, ${CONTACTS} contacts seeded, same process`, opts.log),
    );
  } finally {
    await rig.stop();
  }
  return rows;
}
