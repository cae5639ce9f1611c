import { afterEach, describe, expect, it } from 'vitest';
import type { BitrixEmulator } from '../../../src/sim/bitrix-emulator.js';
import { callForm, callJson, register, startEmulator } from './helpers.js';

let emu: BitrixEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

const MESSAGES = [
  { SIDE: 'User', START_TIME: 1, STOP_TIME: 3, MESSAGE: 'Good afternoon' },
  { SIDE: 'Client', START_TIME: 4, STOP_TIME: 7, MESSAGE: 'Hello' },
];

async function finishedCall(duration = 10): Promise<string> {
  const callId = await register(emu!);
  await callJson(emu!, 'telephony.externalcall.finish', { CALL_ID: callId, USER_ID: 7, DURATION: duration });
  return callId;
}

// docs/reference/bitrix24-telephony.md#attach-transcription
describe('telephony.call.attachTranscription', () => {
  it("saves the docs' example on a finished call and answers its TRANSCRIPT_ID, which the call's statistics row then names", async () => {
    emu = await startEmulator();
    const callId = await finishedCall();
    const r = await callJson(emu, 'telephony.call.attachTranscription', { CALL_ID: callId, MESSAGES, COST: 0.5, COST_CURRENCY: 'USD' });
    expect(r.status).toBe(200);
    expect(r.body.result).toEqual({ TRANSCRIPT_ID: 1 });
    expect(emu.transcripts).toEqual([{ id: 1, callId, messages: MESSAGES, cost: 0.5, costCurrency: 'USD' }]);
    const stats = await callJson(emu, 'voximplant.statistic.get', { FILTER: { CALL_ID: callId } });
    expect(stats.body.result).toEqual([expect.objectContaining({ CALL_ID: callId, TRANSCRIPT_ID: 1, TRANSCRIPT_PENDING: 'N' })]);
  });

  it('takes form-encoded MESSAGES (all strings) as well', async () => {
    emu = await startEmulator();
    const callId = await finishedCall();
    const form = `CALL_ID=${callId}&MESSAGES[0][SIDE]=Client&MESSAGES[0][START_TIME]=0&MESSAGES[0][STOP_TIME]=2&MESSAGES[0][MESSAGE]=Hi`;
    expect((await callForm(emu, 'telephony.call.attachTranscription', form)).body.result).toEqual({ TRANSCRIPT_ID: 1 });
    expect(emu.transcripts[0]!.messages).toEqual([{ SIDE: 'Client', START_TIME: 0, STOP_TIME: 2, MESSAGE: 'Hi' }]);
  });

  it('attaching again saves a second transcript and points the call at it (the first stays, orphaned)', async () => {
    emu = await startEmulator();
    const callId = await finishedCall();
    await callJson(emu, 'telephony.call.attachTranscription', { CALL_ID: callId, MESSAGES });
    const again = await callJson(emu, 'telephony.call.attachTranscription', { CALL_ID: callId, MESSAGES });
    expect(again.body.result).toEqual({ TRANSCRIPT_ID: 2 });
    expect(emu.transcripts.map((t) => t.id)).toEqual([1, 2]);
    expect(emu.statistics.find((s) => s.CALL_ID === callId)?.['TRANSCRIPT_ID']).toBe(2);
  });

  it('refuses, in the envelope of a plain RestException (HTTP 400, empty code) and changing nothing: a call not finished, unknown, or no CALL_ID', async () => {
    emu = await startEmulator();
    const live = await register(emu);
    const refused = async (params: Record<string, unknown>) => {
      const r = await callJson(emu!, 'telephony.call.attachTranscription', params);
      expect(r.status).toBe(400);
      return r.body;
    };
    expect(await refused({ CALL_ID: live, MESSAGES })).toEqual({ error: '', error_description: `Call ${live} is not found. Is it finished?` });
    expect(await refused({ CALL_ID: 'externalCall.nope.1', MESSAGES })).toMatchObject({ error_description: 'Call externalCall.nope.1 is not found. Is it finished?' });
    expect(await refused({ MESSAGES })).toEqual({ error: '', error_description: 'CALL_ID should be set' });
    expect(emu.transcripts).toEqual([]);
  });

  it('refuses a malformed MESSAGES: not a list, a bad SIDE, negative or missing times, empty text, times past the call', async () => {
    emu = await startEmulator();
    const callId = await finishedCall(10);
    const error = async (messages: unknown) => (await callJson(emu!, 'telephony.call.attachTranscription', { CALL_ID: callId, MESSAGES: messages })).body.error_description;
    const m = MESSAGES[0]!;
    expect(await error('text')).toBe('MESSAGES should be an array');
    expect(await error([{ ...m, SIDE: 'Agent' }])).toBe('MESSAGES[0][SIDE] should be either Client or User');
    expect(await error([m, { ...m, START_TIME: -1 }])).toBe('MESSAGES[1][START_TIME] should be greater or equal to zero');
    expect(await error([{ ...m, START_TIME: 1.5 }])).toBe('MESSAGES[0]: START_TIME and STOP_TIME must be whole seconds (emulator check)');
    expect(await error([{ ...m, STOP_TIME: 0 }])).toBe('MESSAGES[0][STOP_TIME] should be greater than zero');
    expect(await error([{ SIDE: 'User', START_TIME: 0, MESSAGE: 'x' }])).toBe('MESSAGES[0][STOP_TIME] should be greater than zero');
    expect(await error([{ ...m, MESSAGE: '  ' }])).toBe('MESSAGES[0][MESSAGE] is empty');
    expect(await error([{ ...m, START_TIME: 5, STOP_TIME: 4 }])).toMatch(/STOP_TIME 4 is before START_TIME 5/);
    expect(await error([{ ...m, START_TIME: 9, STOP_TIME: 11 }])).toBe("MESSAGES[0][STOP_TIME] 11 is past the call's duration 10 s (emulator check)");
    expect(emu.transcripts).toEqual([]);
    expect(emu.statistics.find((s) => s.CALL_ID === callId)?.['TRANSCRIPT_ID']).toBeUndefined();
  });
});
