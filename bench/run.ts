import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { describeMachine, machine } from './lib/machine.js';
import { fullGc } from './lib/stats.js';
import type { BenchModule, BenchOptions, Row } from './lib/types.js';

/**
 * `npm run bench` (or `npx tsx bench/run.ts [--quick] [--only 1,3]`): every item of issue 9, one after the other,
 * in this process (item 5 forks the daemon into a process of its own), then ONE table on stdout and
 * bench/results.json. Progress goes to stderr. Numbers are only as good as the machine is quiet: the load
 * average is printed with them. Never part of `npm test` or CI: nothing here asserts a time.
 */

const ITEMS: Array<{ id: number; name: string; load: () => Promise<BenchModule> }> = [
  { id: 1, name: 'throughput', load: () => import('./1-throughput.js') },
  { id: 2, name: 'card-pop latency', load: () => import('./2-card-pop.js') },
  { id: 3, name: 'burst under the rate limit', load: () => import('./3-burst.js') },
  { id: 4, name: 'requests per call', load: () => import('./4-requests-per-call.js') },
  { id: 5, name: 'memory', load: () => import('./5-memory.js') },
  { id: 6, name: 'click-to-call', load: () => import('./6-click-to-call.js') },
  { id: 7, name: 'recordings', load: () => import('./7-recordings.js') },
  { id: 8, name: 'lookups', load: () => import('./8-lookups.js') },
  { id: 9, name: 'offline click-to-call', load: () => import('./9-offline-click.js') },
  { id: 10, name: 'hostile AMI', load: () => import('./10-hostile-ami.js') },
  { id: 11, name: 'transcripts', load: () => import('./11-transcripts.js') },
  { id: 12, name: 'live view', load: () => import('./12-live-view.js') },
];

const RESULTS = fileURLToPath(new URL('./results.json', import.meta.url));

function parseArgs(argv: string[]): { quick: boolean; only: Set<number> | undefined } {
  let quick = false;
  let only: Set<number> | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') quick = true;
    else if (a === '--only' || a.startsWith('--only=')) {
      const list = a === '--only' ? argv[++i] : a.slice('--only='.length);
      only = new Set((list ?? '').split(',').map((s) => Number(s.trim())));
      if ([...only].some((n) => !ITEMS.some((it) => it.id === n))) throw new Error(`--only: items are ${ITEMS.map((it) => it.id).join(',')}`);
    } else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: tsx bench/run.ts [--quick] [--only 1,3]\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return { quick, only };
}

/** A Markdown table (pipes aligned), so the README can quote it as printed. */
function table(rows: Row[]): string {
  const header = ['item', 'measure', 'value', 'goal', 'met?'];
  const cells = rows.map((r) => [r.item, r.measure, r.value, r.goal, r.met === 'n/a' ? '' : r.met]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((s, i) => s.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

async function main(): Promise<void> {
  const { quick, only } = parseArgs(process.argv.slice(2));
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const opts: BenchOptions = { quick, log };
  const m = machine();
  const loadBefore = os.loadavg();
  const started = performance.now();
  const rows: Row[] = [];
  const timings: Record<string, number> = {};
  let failed = false;
  for (const item of ITEMS) {
    if (only && !only.has(item.id)) continue;
    log(`[${item.id}] ${item.name}${quick ? ' (quick)' : ''}`);
    const t = performance.now();
    try {
      const mod = await item.load();
      rows.push(...(await mod.run(opts)));
    } catch (err) {
      failed = true;
      log(`  failed: ${(err as Error).stack ?? String(err)}`);
      rows.push({ item: `${item.id} ${item.name}`, measure: 'run', value: `failed: ${(err as Error).message}`, raw: null, unit: '', goal: '', met: 'no' });
    }
    timings[item.id] = Math.round(performance.now() - t) / 1000;
    log(`  (${timings[item.id]} s)`);
    fullGc();
  }
  const seconds = Math.round(performance.now() - started) / 1000;
  const loadAfter = os.loadavg();

  const notes = rows.filter((r) => r.note);
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  const out = [
    `asterisk-b24-bridge benchmarks${quick ? ' (--quick: smoke run, indicative only)' : ''}`,
    `machine: ${describeMachine(m)}`,
    `load average before ${load(loadBefore)}, after ${load(loadAfter)}; ${seconds} s`,
    '',
    table(rows),
    '',
    ...notes.map((r) => `- ${r.item} / ${r.measure}: ${r.note}`),
    '',
  ].join('\n');
  process.stdout.write(out);
  writeFileSync(RESULTS, `${JSON.stringify(only ? mergedResults(only, rows, timings, m) : { machine: m, quick, only: 'all', loadBefore, loadAfter, seconds, timings, rows }, null, 2)}\n`);
  log(`results written to ${RESULTS}`);
  // Keep-alive sockets and unref'd timers of the in-process daemons must not keep the run alive.
  process.exit(failed ? 1 : 0);
}

/**
 * `--only` re-runs some items: their rows replace those of the last full run in results.json (which the README
 * quotes), and `reruns` says which items are newer than the rest, so one item's run never wipes the others'.
 */
function mergedResults(only: Set<number>, rows: Row[], timings: Record<string, number>, m: ReturnType<typeof machine>): unknown {
  const itemOf = (r: Row) => Number.parseInt(r.item, 10);
  const last = existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as { rows?: Row[]; timings?: Record<string, number>; reruns?: unknown[] }) : {};
  const kept = (last.rows ?? []).filter((r) => !only.has(itemOf(r)));
  const merged = [...kept, ...rows].sort((a, b) => itemOf(a) - itemOf(b));
  return { ...last, rows: merged, timings: { ...last.timings, ...timings }, reruns: [...(last.reruns ?? []), { items: [...only], machine: m }] };
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(2);
});
