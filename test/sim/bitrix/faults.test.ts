import { afterEach, describe, expect, it } from 'vitest';
import type { BitrixEmulator } from '../../../src/sim/bitrix-emulator.js';
import { sleep } from '../../support/wait.js';
import { FakeClock, T0, callJson, startEmulator } from './helpers.js';

let emu: BitrixEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

describe('fault injection', () => {
  it('fails the next n requests with the given error, then serves normally', async () => {
    emu = await startEmulator();
    emu.faults.failNext(2, { status: 500, error: 'INTERNAL_SERVER_ERROR', error_description: 'boom' });
    expect((await callJson(emu, 'profile')).body).toEqual({ error: 'INTERNAL_SERVER_ERROR', error_description: 'boom' });
    expect((await callJson(emu, 'profile')).status).toBe(500);
    expect((await callJson(emu, 'profile')).status).toBe(200);
    expect(emu.commands).toHaveLength(1);
  });

  it('answers with the down status until setUp', async () => {
    emu = await startEmulator();
    emu.faults.setDown(502);
    const r = await callJson(emu, 'profile');
    expect(r.status).toBe(502);
    expect(typeof r.body).toBe('string');
    emu.faults.setUp();
    expect((await callJson(emu, 'profile')).status).toBe(200);
  });

  it('comes back by itself when the clock reaches the down deadline', async () => {
    const clock = new FakeClock();
    emu = await startEmulator({ clock: clock.fn });
    emu.faults.setDown(503, T0 + 1000);
    expect((await callJson(emu, 'profile')).status).toBe(503);
    clock.tick(1000);
    expect((await callJson(emu, 'profile')).status).toBe(200);
  });

  it('resets the connection without any response', async () => {
    emu = await startEmulator();
    emu.faults.setDown('reset');
    await expect(fetch(`${emu.webhookUrl}profile`)).rejects.toThrow();
    expect(emu.requests[0]?.status).toBe(0);
    expect(emu.commands).toEqual([]);
  });

  it('hangs requests until setUp, then answers them', async () => {
    emu = await startEmulator();
    emu.faults.setDown('hang');
    const pending = fetch(`${emu.webhookUrl}profile`);
    const early = await Promise.race([pending.then(() => 'answered'), sleep(150).then(() => 'waiting')]);
    expect(early).toBe('waiting');
    emu.faults.setUp();
    expect((await pending).status).toBe(200);
  });

  it('lets a hanging client time out, and releases the hang when the clock passes hangFor', async () => {
    const clock = new FakeClock();
    emu = await startEmulator({ clock: clock.fn });
    emu.faults.hangFor(5000);
    await expect(fetch(`${emu.webhookUrl}profile`, { signal: AbortSignal.timeout(100) })).rejects.toThrow();
    const pending = fetch(`${emu.webhookUrl}profile`);
    await sleep(50);
    clock.tick(5000);
    expect((await pending).status).toBe(200);
    expect(emu.commands).toHaveLength(1);
  });
});

describe('lifecycle', () => {
  it('reset restores the seed and empties the logs in place', async () => {
    emu = await startEmulator();
    const requests = emu.requests;
    await callJson(emu, 'telephony.externalLine.add', { NUMBER: '777' });
    emu.reset();
    expect(requests).toEqual([]);
    expect(emu.commands).toEqual([]);
    expect(emu.state.lines.size).toBe(0);
    expect(emu.state.users.size).toBe(5);
  });

  it('close also ends requests that are still hanging', async () => {
    emu = await startEmulator();
    emu.faults.setDown('hang');
    const pending = fetch(`${emu.webhookUrl}profile`).then(
      () => 'answered',
      () => 'failed',
    );
    await sleep(50);
    await emu.close();
    emu = undefined;
    expect(await pending).toBe('failed');
  });
});
