import { createBitrixClient } from '../src/bitrix/client.js';
import { registerParams } from '../src/bitrix/commands.js';
import { ref } from '../src/bitrix/encode.js';
import { LeakyBucket } from '../src/bitrix/limiter.js';
import { UNSATURATED } from './lib/bridge-config.js';
import { showReceipts } from './lib/portal-log.js';
import { childCommand, startChild, stopChild, tell } from './lib/daemon-child.js';
import { AMI_SECRET, AMI_USER, agentUsers } from './lib/rig.js';
import { startAmiSimulator, type AmiSimulator } from '../src/sim/ami-simulator.js';
import { startBitrixEmulator, type BitrixEmulator } from '../src/sim/bitrix-emulator.js';
import { percentile, preciseNow, sleep, until } from './lib/stats.js';
import { agentCalled, callEnd, callStart, dialBegin, newCall, type SyntheticCall } from './lib/synthetic-calls.js';
import { fmt, type BenchOptions, type Row } from './lib/types.js';

/**
 * Item 2: card-pop latency, AgentCalled written to the AMI socket (the simulator's emitEvent) -> the HTTP request
 * carrying that call's show received by the Bitrix24 emulator. The daemon runs in a process of its own, as in
 * production (bench/lib/daemon-child.ts: plain node with the unit's V8 flags; real AMI connection, core, outbox,
 * SQLite state, logs at info to /dev/null); the AMI simulator and the emulator share this process, so both ends
 * of each sample read one clock (timeOrigin + performance.now()) and the emulator's work stays off the daemon's loop.
 * Not saturated: no portal limit, the bridge's own limiter set far away. The outbox lingers 5 ms on purpose
 * (lingerMs) so that the members of a ringall share one request: that is in every number.
 * The emulator is reset (portal.reset(), nothing in flight) before each phase: its register scans every call and
 * lead it stores, so its share of the shared event loop would otherwise grow with the run (measured: +6 ms p50
 * for 10 at once after 1000 calls), a cost of the emulator, not of the bridge.
 *
 * Two readings of "N concurrent ringing calls":
 *  - ringing: N calls ring; a new call starts ringing every 20 ms (and the oldest ends, keeping N), each new card
 *    is timed. This is a call center with N calls ringing.
 *  - at once: all N AgentCalled (+ DialBegin) are written back to back: N cards wanted at the same instant, the
 *    worst case. Each round then ends its calls and lets the outbox drain.
 */

const ITEM = '2 card-pop';
const GOAL = { op: '<=' as const, target: 20, text: 'p99 <= 20 ms' };
const SPACING_MS = 20;

/** The simulator and the emulator here, the daemon in its own process. */
interface Rig {
  pbx: AmiSimulator;
  portal: BitrixEmulator;
  /** Resolves once the daemon's outbox is empty. */
  drained(): Promise<void>;
}

/** Matches shows received by the emulator to the moment their AgentCalled was written. */
class ShowWatch {
  private readonly emittedAt = new Map<string, number>();
  private readonly latencies = new Map<string, number>();
  private next = 0;

  constructor(private readonly rig: Rig) {}

  ring(c: SyntheticCall): void {
    const member = c.members[0]!;
    this.emittedAt.set(c.linkedid, preciseNow());
    this.rig.pbx.emitEvent(agentCalled(c, member));
    this.rig.pbx.emitEvent(dialBegin(c, member));
  }

  /** Reads what arrived; true once every call in `calls` has its show. */
  poll(calls: SyntheticCall[]): boolean {
    const { shows, next } = showReceipts(this.rig.portal, this.next);
    this.next = next;
    for (const s of shows) {
      const sent = this.emittedAt.get(s.linkedid);
      if (sent !== undefined && !this.latencies.has(s.linkedid)) this.latencies.set(s.linkedid, s.at - sent);
    }
    return calls.every((c) => this.latencies.has(c.linkedid));
  }

  async waitFor(calls: SyntheticCall[]): Promise<void> {
    if (!(await until(() => this.poll(calls), 10_000, 2))) throw new Error('card-pop: a show did not arrive within 10 s');
  }

  latency(c: SyntheticCall): number {
    return this.latencies.get(c.linkedid)!;
  }
}

function newCalls(n: number, exts: string[]): SyntheticCall[] {
  return Array.from({ length: n }, (_, i) => newCall('support', [exts[i % exts.length]!]));
}

async function endAndDrain(rig: Rig, calls: SyntheticCall[]): Promise<void> {
  const from = rig.portal.commands.length;
  for (const c of calls) for (const m of callEnd(c)) rig.pbx.emitEvent(m);
  const finished = () => rig.portal.commands.slice(from).filter((c) => c.method === 'telephony.externalcall.finish').length;
  if (!(await until(() => finished() >= calls.length, 20_000, 5))) throw new Error('card-pop: calls did not finish within 20 s');
  await rig.drained();
}

/** N calls ringing; `samples` new ones, one every 20 ms, each replacing the oldest. */
async function ringing(rig: Rig, exts: string[], n: number, samples: number): Promise<number[]> {
  const watch = new ShowWatch(rig);
  const live = newCalls(n, exts);
  for (const c of live) for (const m of callStart(c)) rig.pbx.emitEvent(m);
  await sleep(15);
  for (const c of live) watch.ring(c);
  await watch.waitFor(live);

  const rung: SyntheticCall[] = [];
  const t0 = preciseNow();
  for (let i = 0; i < samples; i++) {
    const wait = t0 + i * SPACING_MS - preciseNow();
    if (wait >= 1) await sleep(wait);
    const [c] = newCalls(1, exts);
    for (const m of callStart(c!)) rig.pbx.emitEvent(m);
    watch.ring(c!);
    rung.push(c!);
    live.push(c!);
    // The oldest stops ringing (its card was shown long ago; a hangup before the show would cancel it).
    const oldest = live.shift()!;
    await watch.waitFor([oldest]);
    for (const m of callEnd(oldest)) rig.pbx.emitEvent(m);
  }
  await watch.waitFor(rung);
  await endAndDrain(rig, live);
  return rung.map((c) => watch.latency(c));
}

/** `rounds` times: N calls start ringing at the same instant. */
async function atOnce(rig: Rig, exts: string[], n: number, rounds: number): Promise<number[]> {
  const out: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const watch = new ShowWatch(rig);
    const calls = newCalls(n, exts);
    for (const c of calls) for (const m of callStart(c)) rig.pbx.emitEvent(m);
    await sleep(15);
    for (const c of calls) watch.ring(c);
    await watch.waitFor(calls);
    for (const c of calls) out.push(watch.latency(c));
    await endAndDrain(rig, calls);
  }
  return out;
}

/** The floor: the bridge's own Bitrix24 client posting the same register+show batch, straight to the emulator. */
async function clientFloor(rig: Rig, samples: number): Promise<number[]> {
  const client = createBitrixClient({ webhookUrl: rig.portal.webhookUrl, limiter: new LeakyBucket(UNSATURATED) });
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const linkedid = `floor.${i}`;
    const register = registerParams(
      { type: 'register', linkedid, userId: 11, phoneNumber: `7496${String(i % 100).padStart(7, '0')}`, callType: 2, lineNumber: '', startedAt: Date.now(), crmCreate: true },
      { addToChat: true },
    );
    const before = rig.portal.requests.length;
    const sent = preciseNow();
    await client.batch([
      { key: 'c1', method: 'telephony.externalcall.register', params: register },
      { key: 'c2', method: 'telephony.externalcall.show', params: { CALL_ID: ref('c1', 'CALL_ID'), USER_ID: [11] } },
    ]);
    out.push(rig.portal.requests[before]!.at - sent);
  }
  return out;
}

function latencyRow(measure: string, samples: number[], note: string, log: (l: string) => void): Row {
  const p50 = percentile(samples, 50);
  const p99 = percentile(samples, 99);
  log(`  ${measure}: ${samples.length} samples, p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${Math.max(...samples).toFixed(2)} ms`);
  return {
    item: ITEM,
    measure: `${measure}: p50 / p99`,
    value: `${fmt(p50, '')} / ${fmt(p99, 'ms')}`,
    raw: p99,
    unit: 'ms',
    goal: GOAL.text,
    met: p99 <= GOAL.target ? 'yes' : 'no',
    note: `${note}; ${samples.length} samples`,
  };
}

export async function run(opts: BenchOptions): Promise<Row[]> {
  const { users, extensions, exts } = agentUsers(10);
  const portal = await startBitrixEmulator({ users, rateLimit: false, clock: preciseNow });
  const pbx = await startAmiSimulator({ username: AMI_USER, secret: AMI_SECRET });
  const cmd = await childCommand(opts.log);
  const daemon = startChild(cmd, { mode: 'calls', amiHost: pbx.host, amiPort: pbx.port, amiUser: AMI_USER, amiSecret: AMI_SECRET, webhookUrl: portal.webhookUrl, extensions });
  const drained = async (): Promise<void> => {
    for (let i = 0; i < 500; i++) {
      tell(daemon.child, { type: 'depth' });
      const m = await daemon.next();
      if (m.type === 'depth' && m.outboxDepth === 0) return;
      await sleep(10);
    }
    throw new Error('card-pop: the daemon\'s outbox did not drain');
  };
  const rig: Rig = { pbx, portal, drained };
  const rows: Row[] = [];
  try {
    const ready = await daemon.next();
    if (ready.type !== 'ready') throw new Error(`card-pop: daemon child said ${ready.type}`);
    await atOnce(rig, exts, 1, opts.quick ? 5 : 30); // warm-up: JIT, HTTP client, SQLite
    const samples = opts.quick ? 50 : 300;
    for (const n of [1, 10, 100]) {
      rig.portal.reset();
      const s = await ringing(rig, exts, n, samples);
      rows.push(latencyRow(`${n} ringing`, s, `a new ring every ${SPACING_MS} ms${n === 1 ? '; includes the 5 ms outbox linger (by design)' : ''}`, opts.log));
    }
    for (const [n, rounds] of opts.quick ? [[10, 5], [100, 2]] : [[10, 40], [100, 8]]) {
      rig.portal.reset();
      const s = await atOnce(rig, exts, n!, rounds!);
      rows.push(latencyRow(`${n} starting to ring at once`, s, `${rounds} rounds`, opts.log));
    }
    const floor = await clientFloor(rig, opts.quick ? 50 : 200);
    rows.push({
      ...latencyRow('baseline: Bitrix24 client POST -> receipt', floor, 'the same register+show batch posted directly: the HTTP floor, no AMI, core, outbox or linger', opts.log),
      goal: '',
      met: 'n/a',
    });
  } finally {
    await stopChild(daemon.child);
    await pbx.close();
    await portal.close();
  }
  return rows;
}
