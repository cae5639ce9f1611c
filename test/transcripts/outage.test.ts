import { afterEach, describe, expect, it } from 'vitest';
import { captureDaemonLogger } from '../support/logger.js';
import { traceBytes } from '../support/traces.js';
import { sleep, waitFor } from '../support/wait.js';
import { expectOneTranscriptAfterFinish, ok, spoolWith, startTranscriptRig, stereoCall, type TranscriptRig } from './rig.js';

let t: TranscriptRig | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const replay = () => t!.rig.pbx.replay(traceBytes('recording'), { speed: 5 });
const transcribed = () => waitFor(() => t!.rig.portal.transcripts.length > 0, 'the transcript', 20_000);
const warning = () => t!.rig.bridge.health().problems.find((p) => p.kind === 'transcripts');

describe('a speech-to-text server that is down, failing or slow delays transcripts and never calls', () => {
  it('down (connection refused): the call is finished and recorded meanwhile, health warns, and the transcript comes once it is back', { timeout: 40_000 }, async () => {
    t = await startTranscriptRig(spoolWith(stereoCall()), { failuresBeforeWarning: 2 });
    await t.stt.down();
    await replay();
    await waitFor(() => t!.rig.portal.records.length > 0, 'the recording', 20_000);
    await waitFor(() => warning(), 'the health warning', 10_000);
    expect(warning()).toMatchObject({ degrading: false, text: expect.stringMatching(/speech-to-text server failed \d+ transcript requests in a row \(last: ECONNREFUSED/) });
    expect(t.rig.portal.transcripts).toEqual([]);
    expect(t.rig.bridge.transcripts!.worker.depth).toBe(1);
    // The live view says the same.
    expect(t.rig.bridge.liveView.snapshot().transcripts).toEqual({ waiting: 1 });
    await t.stt.up();
    await transcribed();
    await sleep(500);
    expectOneTranscriptAfterFinish(t.rig);
    expect(t.rig.bridge.liveView.snapshot().transcripts).toEqual({ waiting: 0 });
    expect(t.rig.portal.transcripts[0]!.messages).toHaveLength(3);
    expect(warning()).toBeUndefined();
  });

  it('answering 500s, then hanging past the timeout: each failure is retried after its backoff, and one transcript is attached', { timeout: 40_000 }, async () => {
    t = await startTranscriptRig(spoolWith(stereoCall()), { timeoutMs: 1_000 });
    t.stt.mode = { kind: 'error', status: 500 };
    await replay();
    await waitFor(() => t!.stt.requests.filter((r) => r.status === 500).length >= 2, 'two refused requests', 20_000);
    t.stt.mode = { kind: 'hang' };
    const before = t.stt.requests.length;
    await waitFor(() => t!.stt.requests.length >= before + 2, 'two requests that time out', 20_000);
    expect(t.rig.portal.transcripts).toEqual([]);
    t.stt.mode = { kind: 'ok' };
    await transcribed();
    await sleep(500);
    expectOneTranscriptAfterFinish(t.rig);
    // Retried, not hammered: each retry waited at least the first backoff (100 ms, -20 % jitter).
    const times = t.stt.requests.map((r) => r.at);
    const failedGaps = times.slice(1, 3).map((at, i) => at - times[i]!);
    for (const gap of failedGaps) expect(gap).toBeGreaterThanOrEqual(75);
  });

  it('slow (answers after 1.5 s, under the timeout): the transcript simply comes later', { timeout: 40_000 }, async () => {
    t = await startTranscriptRig(spoolWith(stereoCall()), { timeoutMs: 5_000 });
    t.stt.mode = { kind: 'slow', ms: 1_500 };
    await replay();
    await transcribed();
    expectOneTranscriptAfterFinish(t.rig);
    expect(t.stt.requests.every((r) => r.status === 200)).toBe(true);
  });
});

describe('the API key', () => {
  it('a server refusing the key (401): retried, logged without the key, and the transcript comes once it accepts', { timeout: 40_000 }, async () => {
    const sink = captureDaemonLogger('debug');
    t = await startTranscriptRig(spoolWith(stereoCall()), { apiKey: 'sk-stt-SECRET-77' }, { deps: { logger: sink.logger } });
    t.stt.mode = { kind: 'error', status: 401 };
    await replay();
    await waitFor(() => t!.stt.requests.length >= 2, 'two refused requests', 20_000);
    t.stt.mode = { kind: 'ok' };
    await transcribed();
    expect(t.stt.requests.every((r) => r.authorization === 'Bearer sk-stt-SECRET-77')).toBe(true);
    expect(sink.lines().filter((l) => l['msg'] === 'transcript request failed; will try again').length).toBeGreaterThanOrEqual(1);
    expect(sink.lines().find((l) => l['msg'] === 'transcript request failed; will try again')).toMatchObject({ error: expect.stringMatching(/^HTTP 401/) });
    expect(sink.text()).not.toContain('sk-stt-SECRET-77');
  });
});

describe('the attach goes through the outbox like every other command', () => {
  it('a portal that is down when the transcript is ready: retried until it is up, attached once', { timeout: 40_000 }, async () => {
    t = await startTranscriptRig(spoolWith(stereoCall()));
    t.stt.mode = { kind: 'slow', ms: 1_000 };
    await replay();
    await waitFor(() => t!.rig.portal.records.length > 0, 'the recording', 20_000);
    t.rig.portal.faults.setDown(503);
    await waitFor(() => t!.rig.portal.requests.filter((r) => r.restMethod === 'telephony.call.attachtranscription' && r.status === 503).length >= 2, 'two refused attaches', 20_000);
    t.rig.portal.faults.setUp();
    await transcribed();
    await sleep(500);
    expectOneTranscriptAfterFinish(t.rig);
    // The server was asked once per side: the retries resent the transcript, not the audio.
    expect(t.stt.requests).toHaveLength(2);
  });

  it('an attach whose answer is lost is not sent again: the call already shows it (voximplant.statistic.get), one transcript saved', { timeout: 40_000 }, async () => {
    t = await startTranscriptRig(spoolWith(stereoCall()));
    t.rig.portal.faults.loseAnswers(1, { methods: ['telephony.call.attachtranscription'] });
    await replay();
    await transcribed();
    await waitFor(() => t!.rig.portal.commands.some(ok('voximplant.statistic.get')), 'the check of the lost attach', 20_000);
    await sleep(1_000);
    expect(t.rig.portal.faults.lostAnswers).toBe(1);
    expect(t.rig.portal.transcripts).toHaveLength(1);
    expect(t.rig.portal.commands.filter(ok('telephony.call.attachtranscription'))).toHaveLength(1);
    expect(t.rig.bridge.outbox.depth).toBe(0);
    expect(t.rig.bridge.outbox.parkedEntries()).toEqual([]);
  });
});
