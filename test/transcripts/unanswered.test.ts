import { afterEach, describe, expect, it } from 'vitest';
import { toneWav } from '../support/stt-server.js';
import { traceBytes } from '../support/traces.js';
import { sleep, waitFor } from '../support/wait.js';
import { ok, spoolWith, startTranscriptRig, type TranscriptRig } from './rig.js';

let t: TranscriptRig | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('an unanswered call', () => {
  it('caller_abandon (the caller gives up in the queue): its recording, even one with sound, is attached, and never sent to the server', { timeout: 40_000 }, async () => {
    // Sound in the file (hold music, say): only the call's facts keep it from the server.
    t = await startTranscriptRig(spoolWith({ '1795263564.46.wav': toneWav(8, [[{ from: 0.5, to: 7, hz: 440 }]]) }), { minDurationSec: 0 });
    await t.rig.pbx.replay(traceBytes('caller_abandon'), { speed: 5 });
    await waitFor(() => t!.rig.portal.records.length > 0, 'the recording', 20_000);
    await sleep(1_000);
    expect(t.rig.portal.commands.filter(ok('telephony.externalcall.finish'))[0]!.params).toMatchObject({ STATUS_CODE: '304' });
    expect(t.stt.requests).toEqual([]);
    expect(t.rig.portal.transcripts).toEqual([]);
    expect(t.rig.bridge.transcripts!.worker.depth).toBe(0);
  });
});
