import { probeFeature } from './lib/feature.js';
import { notMeasured, type BenchOptions, type Row } from './lib/types.js';

/**
 * Item 6: click-to-call, the portal's event POST received by the bridge's HTTP endpoint -> the Originate action
 * written to the AMI simulator, p99. Goal: at most 10 ms.
 * Not written yet: the feature (src/clicktocall, src/http) was being finished at the same time. Until then this
 * item only says whether the feature is in the build; it never reports a number it did not measure.
 */

const ITEM = '6 click-to-call';
const GOAL = 'p99 <= 10 ms';

export async function run(_opts: BenchOptions): Promise<Row[]> {
  const probe = await probeFeature([new URL('../src/clicktocall/service.ts', import.meta.url)]);
  const why = probe.present ? 'no benchmark yet (feature present)' : probe.why;
  const note = probe.present ? `${probe.module} is in the build; its benchmark is still to be written` : undefined;
  return [notMeasured(ITEM, 'event POST -> Originate on the AMI simulator, p99', GOAL, why, note)];
}
