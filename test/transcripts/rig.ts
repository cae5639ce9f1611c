import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { BitrixEmulator, CommandRecord } from '../../src/sim/bitrix-emulator.js';
import { startRig, type Rig, type RigOptions } from '../support/rig.js';
import { startSttServer, toneWav, type FakeSttServer } from '../support/stt-server.js';
import { tempDir } from '../support/tmp.js';

/**
 * The `recording` trace (a support call answered by 102, talk 6 s, MixMonitor on the caller's channel writing
 * /var/spool/asterisk/monitor/1795263642.90.wav) through the daemon with transcripts on, the fake speech-to-text
 * server and the strict emulator: what the transcripts tests share.
 */

export const LINKEDID = '1795263642.90';
export const SPOOL_FROM = '/var/spool/asterisk/monitor';
/** The customer speaks at 440 Hz, the agent at 880 Hz: the fake server names the pitch it hears. */
export const CUSTOMER = [
  { from: 0.5, to: 2, hz: 440 },
  { from: 4, to: 5, hz: 440 },
];
export const AGENT = [{ from: 2.4, to: 3.6, hz: 880 }];

export interface TranscriptRig {
  rig: Rig;
  stt: FakeSttServer;
  spool: string;
  close(): Promise<void>;
}

export function spoolWith(files: Record<string, Buffer>): string {
  const spool = tempDir('b24-spool-');
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(spool, name), bytes);
  return spool;
}

export const stereoCall = () => ({ [`${LINKEDID}.wav`]: toneWav(6, [CUSTOMER, AGENT]) });
export const monoCall = () => ({ [`${LINKEDID}.wav`]: toneWav(6, [[...CUSTOMER, ...AGENT]]) });

export async function startTranscriptRig(
  spool: string,
  transcripts: Record<string, unknown> = {},
  more: Partial<RigOptions> = {},
  recordings: Record<string, unknown> = {},
): Promise<TranscriptRig> {
  const stt = await startSttServer();
  const rig = await startRig({
    ...more,
    config: (peers) => ({
      outbox: { maxRetryDelayMs: 300 },
      recordings: { enabled: true, stableMs: 100, appearTimeoutMs: 5_000, source: { type: 'mount', rewrite: { from: SPOOL_FROM, to: spool } }, ...recordings },
      transcripts: { enabled: true, url: stt.url, model: 'whisper-1', minDurationSec: 1, initialRetryDelayMs: 100, maxRetryDelayMs: 400, timeoutMs: 2_000, ...transcripts },
      ...more.config?.(peers),
    }),
  });
  return {
    rig,
    stt,
    spool,
    async close() {
      await rig.close();
      await stt.close();
    },
  };
}

export const ok = (method: string) => (c: CommandRecord) => c.ok && c.method.toLowerCase() === method.toLowerCase();

/** The call's one CALL_ID, and a check that its one transcript came after its finish and its record. */
export function expectOneTranscriptAfterFinish(rig: { portal: BitrixEmulator }): string {
  const commands = rig.portal.commands;
  const registers = commands.filter(ok('telephony.externalcall.register'));
  expect(registers).toHaveLength(1);
  const callId = (registers[0]!.result as { CALL_ID: string }).CALL_ID;
  const finish = commands.findIndex(ok('telephony.externalcall.finish'));
  const record = commands.findIndex(ok('telephony.externalcall.attachrecord'));
  const transcript = commands.findIndex(ok('telephony.call.attachtranscription'));
  expect(finish).toBeGreaterThanOrEqual(0);
  expect(record).toBeGreaterThan(finish);
  expect(transcript).toBeGreaterThan(record);
  expect(commands.filter(ok('telephony.call.attachtranscription'))).toHaveLength(1);
  expect(rig.portal.transcripts).toHaveLength(1);
  expect(rig.portal.transcripts[0]!.callId).toBe(callId);
  expect(rig.portal.statistics.find((r) => r.CALL_ID === callId)?.['TRANSCRIPT_ID']).toBe(rig.portal.transcripts[0]!.id);
  return callId;
}

/** The jobs' audio is gone once their transcripts are in the outbox. */
export function transcriptDirEmpty(stateDir: string): boolean {
  const dir = join(stateDir, 'transcripts');
  return !existsSync(dir) || readdirSync(dir).length === 0;
}
