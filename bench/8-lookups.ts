import { probeFeature } from './lib/feature.js';
import { notMeasured, type BenchOptions, type Row } from './lib/types.js';

/**
 * Item 8: caller-name and route lookups (the HTTP endpoints the dialplan asks), cached and uncached, p99.
 * Not written yet: no lookup module existed when the benchmarks were written. The candidates below are where it
 * is expected; until one exists and its benchmark is written, this item reports "not measured", never a number.
 */

const ITEM = '8 lookups';
const CANDIDATES = ['../src/lookups/index.ts', '../src/lookups/service.ts', '../src/http/lookups.ts', '../src/lookup/index.ts'];

export async function run(_opts: BenchOptions): Promise<Row[]> {
  const probe = await probeFeature(CANDIDATES.map((c) => new URL(c, import.meta.url)));
  const why = probe.present ? 'no benchmark yet (feature present)' : probe.why;
  const note = probe.present ? `${probe.module} is in the build; its benchmark is still to be written` : undefined;
  return [
    notMeasured(ITEM, 'caller-name lookup p99, cached / uncached', '', why, note),
    notMeasured(ITEM, 'route lookup p99, cached / uncached', '', why, note),
  ];
}
