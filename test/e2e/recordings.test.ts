import { copyFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CommandRecord } from '../../src/sim/bitrix-emulator.js';
import { decodedSeconds, FIXTURE_WAV, sineWav } from '../recordings/helpers.js';
import { processRigPerTest } from '../support/process-rig.js';
import { tempDir } from '../support/tmp.js';
import { traceBytes } from '../support/traces.js';
import { sleep, waitFor } from '../support/wait.js';

/**
 * The `recording` trace through the built daemon as a process: MixMonitor's path is rewritten to a spool
 * directory "mounted" here, the WAV there is transcoded for real, and the strict emulator must end up with
 * exactly one record, on the call's CALL_ID, after its finish, whatever the portal does meanwhile.
 */

const { start, pbx, portal, daemon } = processRigPerTest();

/** A spool holding `wav` where the trace's MixMonitor wrote the caller side; returns the state dir. */
async function setUp(wav: (spool: string) => void, stableMs = 300): Promise<string> {
  const spool = tempDir('b24bridge-spool-');
  wav(join(spool, '1795263642.90.wav'));
  const state = join(tempDir(), 'state');
  const rig = await start();
  await rig.start({
    bitrix: { timeoutMs: 5000 },
    outbox: { maxRetryDelayMs: 500 },
    state: { dir: state },
    recordings: {
      stableMs,
      appearTimeoutMs: 10_000,
      source: { type: 'mount', rewrite: { from: '/var/spool/asterisk/monitor', to: spool } },
    },
  });
  return state;
}

const ok = (method: string) => (c: CommandRecord) => c.ok && c.method === `telephony.externalcall.${method}`;

/** The one register's CALL_ID; checks the record went to it, once, and only after the call's finish. */
function expectOneRecordAfterFinish(fileName: string): Buffer {
  const registers = portal().commands.filter(ok('register'));
  expect(registers).toHaveLength(1);
  expect(registers[0]!.params).toMatchObject({ EXTERNAL_CALL_ID: '1795263642.90' });
  const callId = (registers[0]!.result as { CALL_ID: string }).CALL_ID;
  expect(portal().records).toHaveLength(1);
  expect(portal().records[0]).toMatchObject({ callId, fileName });
  const finish = portal().commands.findIndex(ok('finish'));
  const attach = portal().commands.findIndex(ok('attachrecord'));
  expect(finish).toBeGreaterThanOrEqual(0);
  expect(attach).toBeGreaterThan(finish);
  expect(portal().commands.filter(ok('attachrecord')).every((c) => c.params['CALL_ID'] === callId)).toBe(true);
  return portal().records[0]!.bytes;
}

/** Lets a stray second attach show up before the test says there was only one. */
const settle = () => sleep(1500);

describe('the recording trace through the daemon process', () => {
  it('attaches exactly one MP3 of the caller side to the right CALL_ID after the finish, and leaves its work dir empty', { timeout: 60_000 }, async () => {
    const state = await setUp((path) => copyFileSync(FIXTURE_WAV, path));
    await pbx().replay(traceBytes('recording'), { speed: 5 });
    await waitFor(() => portal().records.length > 0, 'the record', 30_000);
    await settle();
    const mp3 = expectOneRecordAfterFinish('1795263642.90.mp3');
    expect(portal().commands.filter(ok('attachrecord'))).toHaveLength(1);
    expect(Math.abs((await decodedSeconds(mp3)) - 5.98)).toBeLessThan(0.2);
    expect(readdirSync(join(state, 'recordings'))).toEqual([]);
    expect(daemon().alive()).toBe(true);
  });

  it('delivers the record once when the portal answers 503 for a while after the finish', { timeout: 60_000 }, async () => {
    // A longer stable wait: the portal goes down between the finish and the attach.
    await setUp((path) => copyFileSync(FIXTURE_WAV, path), 2000);
    await pbx().replay(traceBytes('recording'), { speed: 5 });
    await waitFor(() => portal().commands.some(ok('finish')), 'the finish', 30_000);
    portal().faults.setDown(503);
    const refused = () => portal().requests.filter((r) => r.restMethod === 'telephony.externalcall.attachrecord' && r.status === 503).length;
    await waitFor(() => refused() >= 2, 'two refused attach tries', 30_000);
    portal().faults.setUp();
    await waitFor(() => portal().records.length > 0, 'the record', 30_000);
    await settle();
    const mp3 = expectOneRecordAfterFinish('1795263642.90.mp3');
    expect(portal().commands.filter(ok('attachrecord'))).toHaveLength(1);
    expect(Math.abs((await decodedSeconds(mp3)) - 5.98)).toBeLessThan(0.2);
    // One transcode for all the tries: the retries sent the MP3 the first try prepared.
    expect(daemon().output().match(/reusing the file an earlier try prepared/g)?.length).toBeGreaterThanOrEqual(2);
  });

  it('sends a 10-minute recording through the two-step upload, surviving a 503 on the upload POST, decoding to 600 s', { timeout: 120_000 }, async () => {
    await setUp((path) => writeFileSync(path, sineWav(600)));
    // The portal goes down the moment it grants the upload URL: the POST that follows meets a 503 page.
    const commands = portal().commands;
    const push = commands.push.bind(commands);
    commands.push = (...items: CommandRecord[]) => {
      for (const c of items) if (c.ok && c.method === 'telephony.externalcall.attachrecord' && (c.result as { uploadUrl?: string } | undefined)?.uploadUrl) {
        if (!portal().requests.some((r) => r.restMethod === 'upload' && r.status === 503)) portal().faults.setDown(503);
      }
      return push(...items);
    };
    await pbx().replay(traceBytes('recording'), { speed: 5 });
    await waitFor(() => portal().requests.some((r) => r.restMethod === 'upload' && r.status === 503), 'the refused upload POST', 90_000);
    portal().faults.setUp();
    await waitFor(() => portal().records.length > 0, 'the record', 60_000);
    await settle();
    const mp3 = expectOneRecordAfterFinish('1795263642.90.mp3');
    expect(portal().records[0]!.mode).toBe('upload');
    expect(Math.abs((await decodedSeconds(mp3)) - 600)).toBeLessThan(0.2);
    expect(daemon().output()).toMatch(/reusing the file an earlier try prepared/);
  });
});
