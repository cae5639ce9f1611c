import { afterEach, describe, expect, it } from 'vitest';
import type { BitrixEmulator, EmulatorOptions } from '../../../src/sim/bitrix-emulator.js';
import { callApp, startAppEmulator } from './app-helpers.js';
import { callJson, startEmulator } from './helpers.js';

const emus: BitrixEmulator[] = [];
afterEach(async () => {
  await Promise.all(emus.splice(0).map((e) => e.close()));
});

async function start(options: EmulatorOptions = {}): Promise<BitrixEmulator> {
  const emu = await startEmulator(options);
  emus.push(emu);
  return emu;
}

const REGISTER = { USER_ID: 7, PHONE_NUMBER: '+74951234567', TYPE: 2, EXTERNAL_CALL_ID: '1700000000.42' };
const registerAndFinish = {
  halt: 0,
  cmd: {
    reg: 'telephony.externalcall.register?USER_ID=7&PHONE_NUMBER=%2B74951234567&TYPE=2&EXTERNAL_CALL_ID=1700000000.42',
    fin: 'telephony.externalcall.finish?CALL_ID=$result[reg][CALL_ID]&USER_ID=7&DURATION=0',
  },
};

describe('lost answers', () => {
  it('executes a register, then resets the connection; a re-sent register of the live call gets the same CALL_ID', async () => {
    const emu = await start();
    emu.faults.loseAnswers(1, { methods: ['telephony.externalcall.register'] });
    await expect(callJson(emu, 'telephony.externalcall.register', REGISTER)).rejects.toThrow();
    expect(emu.faults.lostAnswers).toBe(1);
    expect(emu.requests[0]).toMatchObject({ status: 0, answerLost: true, restMethod: 'telephony.externalcall.register' });
    const [call] = emu.callsFor('1700000000.42');
    expect(call).toMatchObject({ finished: false, userId: 7 });
    expect(emu.requests[0]?.response).toMatchObject({ CALL_ID: call!.callId });

    const resent = await callJson(emu, 'telephony.externalcall.register', REGISTER);
    expect(resent.body.result.CALL_ID).toBe(call!.callId);
    expect(emu.registrationCount('1700000000.42')).toBe(2);
    expect(emu.callsFor('1700000000.42')).toHaveLength(1);
  });

  it('runs a whole batch before losing its answer; re-sending register+finish then makes a second call (issue 15)', async () => {
    const emu = await start();
    emu.faults.loseAnswers(1, { batchContaining: ['telephony.externalcall.register'] });
    await expect(callJson(emu, 'batch', registerAndFinish)).rejects.toThrow();
    expect(emu.callsFor('1700000000.42').map((c) => c.finished)).toEqual([true]);
    expect(emu.statistics).toHaveLength(1);

    const resent = await callJson(emu, 'batch', registerAndFinish);
    expect(resent.status).toBe(200);
    // The first call is finished, so the dedup does not apply: Bitrix24 now has two calls.
    expect(emu.callsFor('1700000000.42')).toHaveLength(2);
    expect(emu.registrationCount('1700000000.42')).toBe(2);
  });

  it('only hits what the filter names', async () => {
    const emu = await start();
    emu.faults.loseAnswers(5, { batchContaining: ['telephony.externalcall.finish'], methods: ['telephony.externalcall.finish'] });
    expect((await callJson(emu, 'telephony.externalcall.register', REGISTER)).status).toBe(200);
    expect((await callJson(emu, 'batch', { cmd: { u: 'user.current' } })).status).toBe(200);
    const callId = emu.callsFor('1700000000.42')[0]!.callId;
    await expect(callJson(emu, 'telephony.externalcall.finish', { CALL_ID: callId, USER_ID: 7 })).rejects.toThrow();
    expect(emu.calls.get(callId)?.finished).toBe(true);
    expect(emu.faults.lostAnswers).toBe(1);
  });

  it('also loses the answer of a command that failed, and stops after n', async () => {
    const emu = await start();
    emu.faults.loseAnswers(1);
    await expect(callJson(emu, 'telephony.externalcall.finish', { CALL_ID: 'nope', USER_ID: 7 })).rejects.toThrow();
    expect(emu.commands[0]).toMatchObject({ method: 'telephony.externalcall.finish', ok: false });
    expect((await callJson(emu, 'profile')).status).toBe(200);
  });

  it('chooses at random with a seed, the same way every time', async () => {
    const pattern = async (seed: number) => {
      const emu = await start();
      emu.faults.loseAnswers(Infinity, { methods: ['profile'], probability: 0.5, seed });
      const outcome: string[] = [];
      for (let i = 0; i < 16; i++) {
        outcome.push(await callJson(emu, 'profile').then(() => 'ok', () => 'lost'));
      }
      expect(emu.commands).toHaveLength(16);
      return outcome.join(',');
    };
    const first = await pattern(7);
    expect(await pattern(7)).toBe(first);
    expect(first).toContain('lost');
    expect(first).toContain('ok');
    expect(await pattern(8)).not.toBe(first);
  });

  it('works the same under app auth, and clear() ends it', async () => {
    const emu = await startAppEmulator();
    emus.push(emu);
    const { accessToken } = emu.issueAppTokens();
    emu.faults.loseAnswers(Infinity, { methods: ['telephony.externalcall.register'] });
    await expect(callApp(emu, 'telephony.externalcall.register', REGISTER, accessToken)).rejects.toThrow();
    expect(emu.commands[0]).toMatchObject({ ok: true, authType: 'app' });
    emu.reset();
    expect((await callApp(emu, 'telephony.externalcall.register', REGISTER, emu.issueAppTokens().accessToken)).status).toBe(200);
  });
});
