import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { processRigPerTest } from '../support/process-rig.js';
import { startSttServer, type FakeSttServer } from '../support/stt-server.js';
import { tempDir } from '../support/tmp.js';
import { traceBytes } from '../support/traces.js';
import { sleep, waitFor } from '../support/wait.js';
import { expectOneTranscriptAfterFinish, ok, SPOOL_FROM, spoolWith, stereoCall, transcriptDirEmpty } from './rig.js';

/**
 * kill -9 of the daemon process between the recording and the transcript: the job (and its kept audio) or the queued
 * transcript survive in the state store, and the next start attaches the transcript once.
 */

const { start, pbx, portal, daemon } = processRigPerTest();
let stt: FakeSttServer | undefined;
afterEach(async () => {
  await stt?.close();
  stt = undefined;
});

async function setUp(): Promise<{ state: string; run: () => Promise<unknown> }> {
  stt = await startSttServer();
  const spool = spoolWith(stereoCall());
  const state = join(tempDir(), 'state');
  const rig = await start();
  const config = {
    bitrix: { timeoutMs: 3000 },
    outbox: { maxRetryDelayMs: 300 },
    state: { dir: state },
    recordings: { stableMs: 100, appearTimeoutMs: 5000, source: { type: 'mount', rewrite: { from: SPOOL_FROM, to: spool } } },
    transcripts: { enabled: true, url: stt.url, model: 'whisper-1', minDurationSec: 1, timeoutMs: 60_000, initialRetryDelayMs: 100, maxRetryDelayMs: 300 },
  };
  return { state, run: () => rig.start(config) };
}

const jobsIn = (state: string): number => {
  const db = new Database(join(state, 'bridge.db'), { readonly: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM transcript_jobs').get() as { n: number }).n;
  } finally {
    db.close();
  }
};

describe('kill -9 between the recording and the transcript', () => {
  it('while the server is working on it: the next start asks again and attaches one transcript', { timeout: 90_000 }, async () => {
    const { state, run } = await setUp();
    stt!.mode = { kind: 'hang' };
    await run();
    await pbx().replay(traceBytes('recording'), { speed: 5 });
    await waitFor(() => portal().records.length > 0 && stt!.requests.length > 0, 'the recording attached and its transcript asked for', 30_000);
    expect(jobsIn(state)).toBe(1);
    await daemon().stop('SIGKILL');
    stt!.mode = { kind: 'ok' };
    await run();
    await waitFor(() => portal().transcripts.length > 0, 'the transcript after the restart', 30_000);
    await sleep(1_500);
    expectOneTranscriptAfterFinish({ portal: portal() });
    expect(portal().transcripts[0]!.messages.map((m) => m.SIDE)).toEqual(['Client', 'User', 'Client']);
    expect(portal().records).toHaveLength(1);
    expect(jobsIn(state)).toBe(0);
    await waitFor(() => transcriptDirEmpty(state), 'the kept audio to be removed');
  });

  it('once the transcript is queued and the portal is down: the next start sends it, once, without asking the server again', { timeout: 90_000 }, async () => {
    const { state, run } = await setUp();
    await run();
    // Down from the recording's attach on: the transcript then waits in the outbox.
    const commands = portal().commands;
    const push = commands.push.bind(commands);
    commands.push = (...items) => {
      if (items.some(ok('telephony.externalcall.attachrecord'))) portal().faults.setDown(503);
      return push(...items);
    };
    await pbx().replay(traceBytes('recording'), { speed: 5 });
    const refused = () => portal().requests.filter((r) => r.restMethod === 'telephony.call.attachtranscription' && r.status === 503).length;
    await waitFor(() => refused() >= 1, 'a refused attach of the transcript', 30_000);
    expect(jobsIn(state)).toBe(0);
    await daemon().stop('SIGKILL');
    const asked = stt!.requests.length;
    expect(asked).toBe(2);
    portal().faults.setUp();
    await run();
    await waitFor(() => portal().transcripts.length > 0, 'the transcript after the restart', 30_000);
    await sleep(1_500);
    expectOneTranscriptAfterFinish({ portal: portal() });
    expect(stt!.requests).toHaveLength(asked);
  });
});
