import { probeFeature } from './lib/feature.js';
import { notMeasured, type BenchOptions, type Row } from './lib/types.js';

/**
 * Item 7: recordings, MP3 transcoding speed (x realtime) and the time from hangup to the record attached for a
 * 10-minute call. Goal: attached within 5 s.
 * Not written yet: the recordings pipeline (src/recordings) was being finished at the same time. Until then this
 * item only says whether the feature is in the build; it never reports a number it did not measure.
 */

const ITEM = '7 recordings';

export async function run(_opts: BenchOptions): Promise<Row[]> {
  const probe = await probeFeature([new URL('../src/recordings/transcode.ts', import.meta.url)]);
  const why = probe.present ? 'no benchmark yet (feature present)' : probe.why;
  const note = probe.present ? `${probe.module} is in the build; its benchmark is still to be written` : undefined;
  return [
    notMeasured(ITEM, 'MP3 transcoding speed (x realtime)', '', why, note),
    notMeasured(ITEM, 'hangup -> recording attached, 10-minute call', '<= 5 s', why, note),
  ];
}
