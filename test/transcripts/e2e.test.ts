import { afterEach, describe, expect, it } from 'vitest';
import { traceBytes } from '../support/traces.js';
import { sleep, waitFor } from '../support/wait.js';
import { expectOneTranscriptAfterFinish, monoCall, spoolWith, startTranscriptRig, stereoCall, transcriptDirEmpty, type TranscriptRig } from './rig.js';

let t: TranscriptRig | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const transcribed = () => waitFor(() => t!.rig.portal.transcripts.length > 0, 'the transcript', 20_000);

describe('a recorded call gets its transcript on the Bitrix24 call', () => {
  it('a two-channel recording: each side transcribed apart, the customer as Client and the agent as User, in time order', { timeout: 40_000 }, async () => {
    t = await startTranscriptRig(spoolWith(stereoCall()));
    await t.rig.pbx.replay(traceBytes('recording'), { speed: 5 });
    await transcribed();
    await sleep(500);
    expectOneTranscriptAfterFinish(t.rig);
    expect(t.rig.portal.transcripts[0]!.messages).toEqual([
      { SIDE: 'Client', START_TIME: 0, STOP_TIME: 2, MESSAGE: 'tone 440 Hz' },
      { SIDE: 'User', START_TIME: 2, STOP_TIME: 4, MESSAGE: 'tone 880 Hz' },
      { SIDE: 'Client', START_TIME: 4, STOP_TIME: 5, MESSAGE: 'tone 440 Hz' },
    ]);
    // Two requests, one per side, each a mono WAV, with the OpenAI fields.
    expect(t.stt.requests).toHaveLength(2);
    for (const r of t.stt.requests) {
      expect(r.status).toBe(200);
      expect(r.fields).toMatchObject({ model: ['whisper-1'], response_format: ['verbose_json'], 'timestamp_granularities[]': ['segment'] });
      expect(r.fields['language']).toBeUndefined();
      expect(r.authorization).toBeUndefined();
    }
    await waitFor(() => transcriptDirEmpty(t!.rig.stateDir), 'the kept audio to be removed');
  });

  it('a mono recording: one side (User), every phrase of both voices in time order', { timeout: 40_000 }, async () => {
    t = await startTranscriptRig(spoolWith(monoCall()), { language: 'ru', apiKey: 'stt-key-123' });
    await t.rig.pbx.replay(traceBytes('recording'), { speed: 5 });
    await transcribed();
    await sleep(500);
    expectOneTranscriptAfterFinish(t.rig);
    expect(t.rig.portal.transcripts[0]!.messages).toEqual([
      { SIDE: 'User', START_TIME: 0, STOP_TIME: 2, MESSAGE: 'tone 440 Hz' },
      { SIDE: 'User', START_TIME: 2, STOP_TIME: 4, MESSAGE: 'tone 880 Hz' },
      { SIDE: 'User', START_TIME: 4, STOP_TIME: 5, MESSAGE: 'tone 440 Hz' },
    ]);
    expect(t.stt.requests).toHaveLength(1);
    expect(t.stt.requests[0]!.fields['language']).toEqual(['ru']);
    expect(t.stt.requests[0]!.authorization).toBe('Bearer stt-key-123');
  });
});
