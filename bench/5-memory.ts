import type { ChildMessage, Mem } from './lib/memory-child.js';
import { childCommand, startChild, stopChild, tell, type ChildCommand } from './lib/daemon-child.js';
import { shownCards } from './lib/portal-log.js';
import { AMI_SECRET, AMI_USER, agentUsers } from './lib/rig.js';
import { sleep, until } from './lib/stats.js';
import { agentCalled, callStart, dialBegin, newCall } from './lib/synthetic-calls.js';
import { defaultTraceDir } from './lib/trace-copies.js';
import { row, type BenchOptions, type Row } from './lib/types.js';
import { startAmiSimulator } from '../src/sim/ami-simulator.js';
import { startBitrixEmulator } from '../src/sim/bitrix-emulator.js';

/**
 * Item 5: resident memory of the daemon process alone (bench/lib/memory-child.ts, bundled with esbuild and run
 * by plain `node --expose-gc` with the systemd unit's V8 flags, a full GC before every reading).
 *  - With 1000 concurrent calls: 1000 queue calls ringing 3 members each (4 channels per call), started and not
 *    ended, every card delivered to the emulator (no portal limit), the real AMI connection, client and SQLite
 *    state. Baseline: the same process started, no calls.
 *  - Soak: copies of every real trace (distinct ids) through framer, core, runtime and outbox with a portal that
 *    answers at once: an 800k-event warm-up that fills the bounded memories of ended calls, then 1M events more;
 *    RSS after the warm-up and at the end, growth in %.
 */

const ITEM = '5 memory';
const MB = 2 ** 20;

const mb = (m: Mem) => m.rss / MB;
const describe = (m: Mem) =>
  `RSS ${mb(m).toFixed(1)} MB (heap used ${(m.heapUsed / MB).toFixed(1)}, heap total ${(m.heapTotal / MB).toFixed(1)}, of it new space ${(m.newSpace / MB).toFixed(1)}, external ${(m.external / MB).toFixed(1)} MB)`;

async function concurrentCalls(cmd: ChildCommand, calls: number, log: (l: string) => void): Promise<{ idle: Mem; loaded: Mem; active: number }> {
  const { users, extensions } = agentUsers(3);
  const portal = await startBitrixEmulator({ users, rateLimit: false });
  const pbx = await startAmiSimulator({ username: AMI_USER, secret: AMI_SECRET });
  const { child, next } = startChild(cmd, { mode: 'calls', amiHost: pbx.host, amiPort: pbx.port, amiUser: AMI_USER, amiSecret: AMI_SECRET, webhookUrl: portal.webhookUrl, extensions });
  try {
    const ready = await next();
    if (ready.type !== 'ready') throw new Error(`memory child: unexpected ${ready.type}`);
    for (let i = 0; i < calls; i++) {
      const c = newCall('support', ['101', '102', '103']);
      for (const m of callStart(c)) pbx.emitEvent(m);
      for (const m of c.members) {
        pbx.emitEvent(agentCalled(c, m));
        pbx.emitEvent(dialBegin(c, m));
      }
      if (i % 50 === 49) await sleep(5);
    }
    let scan = { cards: new Map<string, number>(), next: 0 };
    const all = await until(() => {
      scan = shownCards(portal, scan.cards, scan.next);
      return scan.cards.size >= calls * 3;
    }, 120_000, 50);
    if (!all) throw new Error(`memory: only ${scan.cards.size} of ${calls * 3} cards shown`);
    await sleep(1500); // a state snapshot with every call in it, timers settled
    tell(child, { type: 'measure' });
    const measured = await next();
    if (measured.type !== 'measured') throw new Error(`memory child: unexpected ${measured.type}`);
    log(`  idle ${describe(ready.mem)}`);
    log(`  with ${measured.activeCalls} calls ${describe(measured.mem)}`);
    return { idle: ready.mem, loaded: measured.mem, active: measured.activeCalls };
  } finally {
    await stopChild(child);
    await pbx.close();
    await portal.close();
  }
}

export async function run(opts: BenchOptions): Promise<Row[]> {
  const cmd = await childCommand(opts.log);
  const calls = 1000;
  const a = await concurrentCalls(cmd, calls, opts.log);

  // The warm-up fills what the daemon keeps of ended calls up to its bounds (the core's 2000 ended Linkedids and
  // their 16k hung-up channels, about 650k events of these traces): growth after it is what keeps growing.
  const warmup = opts.quick ? 100_000 : 800_000;
  const events = warmup + (opts.quick ? 200_000 : 1_000_000);
  // RSS moves by a few MB from run to run with the heap flat (malloc and V8 keep freed pages for a while): the
  // median of three soaks, each in a fresh process, is the reading; the spread is in the note.
  const runs: Array<{ soak: Extract<ChildMessage, { type: 'soak' }>; growth: number }> = [];
  for (let r = 0; r < (opts.quick ? 1 : 3); r++) {
    const soakRun = startChild(cmd, { mode: 'soak', traceDir: defaultTraceDir(), events, warmupEvents: warmup, sampleEvery: events / 10 });
    try {
      const m = await soakRun.next();
      if (m.type !== 'soak') throw new Error(`memory child: unexpected ${m.type}`);
      const growth = ((m.end.rss - m.start.rss) / m.start.rss) * 100;
      runs.push({ soak: m, growth });
      opts.log(`  soak ${r + 1}: ${m.events} events, RSS ${mb(m.start).toFixed(1)} -> ${mb(m.end).toFixed(1)} MB (${growth.toFixed(1)} %), heap ${(m.start.heapUsed / MB).toFixed(1)} -> ${(m.end.heapUsed / MB).toFixed(1)} MB`);
      opts.log(`    samples (no GC): ${m.samples.map((s) => `${Math.round(s.events / 1000)}k:${Math.round(s.rss / MB)}`).join(' ')} MB`);
    } finally {
      await stopChild(soakRun.child);
    }
  }
  runs.sort((x, y) => x.growth - y.growth);
  const { soak, growth } = runs[Math.floor(runs.length / 2)]!;
  const spread = runs.map((r) => `${r.growth.toFixed(1)} %`).join(', ');
  const rate = (soak.events - soak.startEvents) / soak.seconds;
  opts.log(`  state snapshot at the end: ${(soak.snapshotBytes / 1024).toFixed(0)} KiB JSON, ${soak.snapshotMs.toFixed(1)} ms to build`);

  const events_ = `${soak.events.toLocaleString('en-US')} events`;
  return [
    row(ITEM, 'baseline: RSS of the started daemon, no calls', mb(a.idle), 'MB', undefined, cmd.note),
    row(ITEM, `RSS with ${a.active} concurrent calls`, mb(a.loaded), 'MB', { op: '<=', target: 100, text: '<= 100 MB' },
      `queue calls ringing 3 members each, every card delivered; heap ${(a.loaded.heapUsed / MB).toFixed(1)} MB`),
    row(ITEM, `soak: RSS after ${Math.round(warmup / 1000)}k-event warm-up`, mb(soak.start), 'MB', undefined, 'bounded memories of ended calls full'),
    row(ITEM, `soak: RSS after ${((soak.events - soak.startEvents) / 1e6).toFixed(2)}M more events (${events_} in all)`, mb(soak.end), 'MB', undefined, `heap ${(soak.start.heapUsed / MB).toFixed(1)} -> ${(soak.end.heapUsed / MB).toFixed(1)} MB`),
    row(ITEM, `soak: RSS growth (median of ${runs.length})`, growth, '%', { op: '<=', target: 5, text: '<= 5 %' }, `runs: ${spread}; calls still open at the end: ${soak.activeCalls}; core state snapshot ${(soak.snapshotBytes / 1024).toFixed(0)} KiB, ${soak.snapshotMs.toFixed(0)} ms to build`),
    row(ITEM, 'soak: events/s through framer, core, runtime, outbox, SQLite', rate, 'ev/s', undefined, 'portal answering at once; logs at info to /dev/null', 0),
  ];
}
