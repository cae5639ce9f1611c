import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { traceBytes } from '../support/traces.js';
import { sleep, waitFor } from '../support/wait.js';
import { toneWav } from '../support/stt-server.js';
import { AGENT, CUSTOMER, expectOneTranscriptAfterFinish, LINKEDID, ok, spoolWith, startTranscriptRig, stereoCall, type TranscriptRig } from './rig.js';

let t: TranscriptRig | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const replay = () => t!.rig.pbx.replay(traceBytes('recording'), { speed: 5 });
const recorded = () => waitFor(() => t!.rig.portal.records.length > 0, 'the recording', 20_000);

describe('which calls get a transcript', () => {
  it("MixMonitor's r() and t() files beside the recording: the receive file is the customer (Client), the transmit file the agent (User)", { timeout: 40_000 }, async () => {
    // The mixed file is silent: only the two side files can give these words.
    t = await startTranscriptRig(
      spoolWith({
        [`${LINKEDID}.wav`]: toneWav(6, [[]]),
        [`${LINKEDID}-in.wav`]: toneWav(6, [CUSTOMER]),
        [`${LINKEDID}-out.wav`]: toneWav(6, [AGENT]),
      }),
    );
    await replay();
    await waitFor(() => t!.rig.portal.transcripts.length > 0, 'the transcript', 20_000);
    expectOneTranscriptAfterFinish(t.rig);
    expect(t.rig.portal.transcripts[0]!.messages.map((m) => `${m.SIDE}@${m.START_TIME}: ${m.MESSAGE}`)).toEqual([
      'Client@0: tone 440 Hz',
      'User@2: tone 880 Hz',
      'Client@4: tone 440 Hz',
    ]);
    expect(t.stt.requests.map((r) => r.fileName).sort()).toEqual(['receive.wav', 'transmit.wav']);
  });

  it('with recordings.keepOriginals false the r() and t() files are deleted too, once the job has its copies', { timeout: 40_000 }, async () => {
    const spool = spoolWith({
      [`${LINKEDID}.wav`]: toneWav(6, [[]]),
      [`${LINKEDID}-in.wav`]: toneWav(6, [CUSTOMER]),
      [`${LINKEDID}-out.wav`]: toneWav(6, [AGENT]),
    });
    t = await startTranscriptRig(spool, {}, {}, { keepOriginals: false });
    await replay();
    await waitFor(() => t!.rig.portal.transcripts.length > 0, 'the transcript', 20_000);
    expect(t.rig.portal.transcripts[0]!.messages.map((m) => m.SIDE)).toEqual(['Client', 'User', 'Client']);
    expect(readdirSync(spool)).toEqual([]);
  });

  it('transcripts disabled (the default): the server is never contacted, nothing is kept, no transcript is attached, the recording is', { timeout: 40_000 }, async () => {
    t = await startTranscriptRig(spoolWith(stereoCall()), { enabled: false });
    await replay();
    await recorded();
    await sleep(1_000);
    expect(t.stt.requests).toEqual([]);
    expect(t.rig.portal.commands.filter(ok('telephony.call.attachtranscription'))).toEqual([]);
    expect(t.rig.portal.transcripts).toEqual([]);
    expect(existsSync(join(t.rig.stateDir, 'transcripts'))).toBe(false);
    expect(t.rig.bridge.transcripts).toBeUndefined();
    // The call itself as without transcripts: one register, one finish, one record.
    expect(t.rig.portal.commands.filter(ok('telephony.externalcall.finish'))).toHaveLength(1);
    expect(t.rig.portal.records).toHaveLength(1);
  });

  for (const [name, filter] of [
    ['shorter than minDurationSec (6 s of talk, 7 required)', { minDurationSec: 7 }],
    ['of a direction not listed (inbound call, outbound only)', { directions: ['outbound'] }],
    ['of a queue not listed (support call, sales only)', { queues: ['sales'] }],
  ] as const) {
    it(`a call ${name} is not transcribed: its audio never reaches the server`, { timeout: 40_000 }, async () => {
      t = await startTranscriptRig(spoolWith(stereoCall()), filter);
      await replay();
      await recorded();
      await sleep(1_000);
      expect(t.stt.requests).toEqual([]);
      expect(t.rig.portal.transcripts).toEqual([]);
      expect(t.rig.bridge.transcripts?.worker.depth).toBe(0);
    });
  }

  it('a call of a listed queue, long enough, of a listed direction is transcribed', { timeout: 40_000 }, async () => {
    t = await startTranscriptRig(spoolWith(stereoCall()), { minDurationSec: 6, queues: ['support'], directions: ['inbound'] });
    await replay();
    await waitFor(() => t!.rig.portal.transcripts.length > 0, 'the transcript', 20_000);
    expectOneTranscriptAfterFinish(t.rig);
  });
});
