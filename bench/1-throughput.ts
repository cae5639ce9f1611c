import { AmiFramer } from '../src/ami/framer.js';
import { normalize } from '../src/core/normalize.js';
import { traceTracker } from '../test/support/traces.js';
import { asteriskManagerParser } from './lib/asterisk-manager.js';
import { fullGc, median } from './lib/stats.js';
import { chunks, eventsPerCopy, traceCopies } from './lib/trace-copies.js';
import { row, textRow, type BenchOptions, type Row } from './lib/types.js';

/**
 * Item 1: AMI events through framer + normalize + tracker, on one core (it is one thread), every real trace
 * replayed as fast as it can be fed, in N copies with distinct ids, in 64 KiB chunks (what a socket read hands over).
 * Baseline: asterisk-manager's bare parse of the very same chunks. Median of 5 timed runs after a warm-up run.
 */

const ITEM = '1 throughput';
const GOAL = { op: '>=' as const, target: 150_000, text: '>= 150k ev/s' };

interface Pass {
  events: number;
  ms: number;
  registers: number;
}

function framerAndCore(pieces: Buffer[]): Pass {
  const framer = new AmiFramer();
  const tracker = traceTracker();
  let events = 0;
  let registers = 0;
  const start = performance.now();
  for (const piece of pieces) {
    for (const out of framer.push(piece)) {
      if (out.type !== 'message' || out.message['Event'] === undefined) continue;
      events++;
      // The runtime reads its clock for every event (the receive time, used when there is no Timestamp).
      const input = normalize(out.message, Date.now());
      if (input === undefined) continue;
      for (const effect of tracker.handle(input)) if (effect.type === 'register') registers++;
    }
  }
  return { events, ms: performance.now() - start, registers };
}

function framerOnly(pieces: Buffer[]): Pass {
  const framer = new AmiFramer();
  let events = 0;
  const start = performance.now();
  for (const piece of pieces) {
    for (const out of framer.push(piece)) if (out.type === 'message' && out.message['Event'] !== undefined) events++;
  }
  return { events, ms: performance.now() - start, registers: 0 };
}

function asteriskManager(pieces: Buffer[]): Pass {
  const parser = asteriskManagerParser();
  const start = performance.now();
  for (const piece of pieces) parser.push(piece);
  return { events: parser.events, ms: performance.now() - start, registers: 0 };
}

function measure(name: string, fn: (pieces: Buffer[]) => Pass, pieces: Buffer[], runs: number, log: (l: string) => void): { rate: number; pass: Pass } {
  fn(pieces); // warm-up: JIT, inline caches
  const rates: number[] = [];
  let last: Pass | undefined;
  for (let i = 0; i < runs; i++) {
    fullGc();
    last = fn(pieces);
    rates.push(last.events / (last.ms / 1000));
  }
  const rate = median(rates);
  log(`  ${name}: ${rates.map((r) => Math.round(r / 1000)).join(', ')} k ev/s -> median ${Math.round(rate / 1000)}k`);
  return { rate, pass: last! };
}

export async function run(opts: BenchOptions): Promise<Row[]> {
  const copies = opts.quick ? 4 : 40;
  const runs = opts.quick ? 3 : 5;
  const buf = traceCopies(copies);
  const pieces = chunks(buf);
  const expectedEvents = copies * eventsPerCopy();
  opts.log(`  ${copies} copies of every trace: ${(buf.length / 2 ** 20).toFixed(1)} MiB, ${expectedEvents} events`);

  // The copies must really be distinct calls: N copies register N times what one copy does.
  const one = framerAndCore(chunks(traceCopies(1)));
  const ours = measure('framer + core', framerAndCore, pieces, runs, opts.log);
  if (ours.pass.events !== expectedEvents || ours.pass.registers !== copies * one.registers) {
    throw new Error(`trace copies are not independent: ${ours.pass.registers} registers for ${copies} copies of ${one.registers}`);
  }
  const framer = measure('framer only', framerOnly, pieces, runs, opts.log);
  const baseline = measure('asterisk-manager parse', asteriskManager, pieces, runs, opts.log);
  if (baseline.pass.events !== expectedEvents) throw new Error(`asterisk-manager parsed ${baseline.pass.events} of ${expectedEvents} events`);

  const bytesPerEvent = Math.round(buf.length / expectedEvents);
  return [
    row(ITEM, 'framer + normalize + tracker (events/s, median)', ours.rate, 'ev/s', GOAL,
      `${copies} copies of all ${one.registers}-call trace set, ${expectedEvents} events, ${bytesPerEvent} B/event, unfiltered (no AMI Filter), 64 KiB chunks, median of ${runs}`, 0),
    row(ITEM, 'framer only (events/s, median)', framer.rate, 'ev/s', undefined, undefined, 0),
    row(ITEM, 'baseline: asterisk-manager 0.2.0 bare parse (events/s)', baseline.rate, 'ev/s', undefined,
      'its own ManagerReader fed the same chunks through a stand-in socket; its per-event nextTick dispatch is not counted', 0),
    textRow(ITEM, 'framer + core vs asterisk-manager parse', `${(ours.rate / baseline.rate).toFixed(1)}x`, { raw: ours.rate / baseline.rate }),
  ];
}
