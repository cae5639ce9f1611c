import { describe, expect, it } from 'vitest';
import type { StatusSnapshot } from '../../src/status/types.js';
import { sleep, waitFor, waitForAsync } from '../support/wait.js';
import { DEFAULT_USER, liveBed, type LiveDaemon } from './support/bed.js';
import { cardMoves, cardsLeftOpen, expectEachCallOnce, finished, telephony } from './support/portal.js';
import { iface, SUPPORT } from './support/scenarios.js';

/**
 * Queue calls on a real Asterisk 22 with the daemon as a process, the scenarios of the shared traces
 * (test/fixtures/ami: support_ringall_answer, caller_abandon, no_members_all_paused, recording, queue_actions):
 * what Bitrix24 received must be what test/fixtures/ami/README.md says it should see.
 */

let live: LiveDaemon | undefined;
const lab = liveBed();

describe('queue calls, live', () => {
  it('support ringall, 102 answers: one register, cards to 11-13, 11 and 13 hidden on the answer, finished by 12 with the talk time', async () => {
    live = await lab.daemon();
    const { pbx } = lab.bed;
    await pbx.agents({ '101': 'noanswer', '102': 'answer-after-2:5', '103': 'noanswer' });
    await pbx.customer('5551001', 'answer:60');
    await pbx.call('5551001', 'support', { RECORD: 'no' });
    const { call, finish } = await finished(live.portal, '5551001');
    expect(telephony(live.portal).find((c) => c.method === 'register')!.params).toMatchObject({ PHONE_NUMBER: '5551001', TYPE: '2', USER_ID: '11', SHOW: '0' });
    expect(cardMoves(live.portal, call.callId)).toEqual([
      ['show', [11, 12, 13]],
      ['hide', [11, 13]],
    ]);
    expect(finish.params).toMatchObject({ USER_ID: '12', STATUS_CODE: '200', DURATION: '5' });
    expect(cardsLeftOpen(call)).toEqual([]);
    expect(expectEachCallOnce(live.portal)).toEqual([]);
    expect(live.portal.statistics).toEqual([expect.objectContaining({ CALL_ID: call.callId, CALL_DURATION: 5, CALL_FAILED_CODE: '200' })]);
  });

  it('the live view follows it on a real Asterisk: its version and uptime, the call ringing three members, 102 talking, then gone', async () => {
    live = await lab.daemon();
    const { pbx } = lab.bed;
    const base = live.process.httpBase()!;
    const status = async () => (await (await fetch(`${base}/status.json`)).json()) as StatusSnapshot;
    await pbx.agents({ '101': 'noanswer', '102': 'answer-after-3:4', '103': 'noanswer' });
    await pbx.customer('5551001', 'answer:60');
    await pbx.call('5551001', 'support', { RECORD: 'no' });
    const ringing = await waitForAsync(async () => (await status()).calls.find((c) => c.state === 'ringing' && c.cards.length === 3), 'the call ringing on the page', 10_000, 100);
    expect([ringing.number, ringing.queue, ringing.cards.map((p) => p.userId)]).toEqual(['5551001', 'support', [11, 12, 13]]);
    expect(ringing.ringing.map((p) => p.ext)).toEqual(['101', '102', '103']);
    const talking = await waitForAsync(async () => (await status()).calls.find((c) => c.state === 'talking'), 'the call talking on the page', 10_000, 100);
    expect([talking.agent, talking.cards.map((p) => p.userId)]).toEqual([{ ext: '102', userId: 12 }, [12]]);
    await finished(live.portal, '5551001');
    const after = await waitForAsync(async () => {
      const s = await status();
      return s.calls.length === 0 ? s : undefined;
    }, 'the call gone from the page', 10_000, 100);
    // CoreSettings and FullyBooted of the real Asterisk.
    expect(after.ami).toMatchObject({ connected: true, asteriskVersion: '22.10.1' });
    expect(after.ami.bootedAt).toBeLessThan(Date.now());
  });

  it('the caller gives up after 8 s: every card hidden, finished by the default user as missed (304)', async () => {
    live = await lab.daemon();
    const { pbx } = lab.bed;
    await pbx.agents({ '101': 'noanswer', '102': 'noanswer', '103': 'noanswer' });
    await pbx.customer('5553001', 'answer:8');
    await pbx.call('5553001', 'support', { RECORD: 'no' });
    const { call, finish } = await finished(live.portal, '5553001');
    expect(cardMoves(live.portal, call.callId)).toEqual([
      ['show', [11, 12, 13]],
      ['hide', [11, 12, 13]],
    ]);
    expect(finish.params).toMatchObject({ USER_ID: String(DEFAULT_USER), STATUS_CODE: '304', DURATION: '0' });
    expect(expectEachCallOnce(live.portal)).toEqual([]);
  });

  it('every member paused, the caller leaves by the queue timeout: registered and finished as missed, no card', async () => {
    live = await lab.daemon();
    const { pbx } = lab.bed;
    for (const ext of SUPPORT) await pbx.pause('support', iface(ext), true, 'lunch');
    try {
      await pbx.customer('5554002', 'answer:60');
      await pbx.call('5554002', 'support', { RECORD: 'no', QTIMEOUT: '3' });
      const { call, finish } = await finished(live.portal, '5554002');
      expect(cardMoves(live.portal, call.callId)).toEqual([]);
      expect(finish.params).toMatchObject({ USER_ID: String(DEFAULT_USER), STATUS_CODE: '304' });
      // Those pauses were a human's: the ring-back fix never touches them.
      for (const ext of SUPPORT) expect(await pbx.member('support', iface(ext))).toMatchObject({ Paused: '1', PausedReason: 'lunch' });
    } finally {
      for (const ext of SUPPORT) await pbx.pause('support', iface(ext), false);
    }
  });

  it('a recorded call: after the finish, its MixMonitor WAV is attached to the same CALL_ID as an MP3', async () => {
    live = await lab.daemon();
    const { pbx } = lab.bed;
    await pbx.agents({ '101': 'noanswer', '102': 'answer-after-1:4', '103': 'noanswer' });
    await pbx.customer('5558001', 'answer:60');
    await pbx.call('5558001', 'support');
    const { call, finish } = await finished(live.portal, '5558001');
    expect(finish.params).toMatchObject({ USER_ID: '12', STATUS_CODE: '200', DURATION: '4' });
    const record = await waitFor(() => live!.portal.records.find((r) => r.callId === call.callId), 'the recording to be attached', 30_000);
    expect(record.fileName).toMatch(/\.mp3$/);
    // An MPEG audio stream (ID3 tag or frame sync), a few kB for 4 s of mono 32 kbit/s.
    expect(record.bytes.subarray(0, 3).toString('latin1') === 'ID3' || (record.bytes[0] === 0xff && (record.bytes[1]! & 0xe0) === 0xe0)).toBe(true);
    expect(record.bytes.length).toBeGreaterThan(8_000);
    const methods = telephony(live.portal).filter((c) => c.callId === call.callId).map((c) => c.method);
    expect(methods.indexOf('attachrecord')).toBeGreaterThan(methods.indexOf('finish'));
  });

  it('queue actions and no call (QueueStatus, QueuePause, QueueSummary, QueuePenalty): nothing reaches Bitrix24', async () => {
    live = await lab.daemon();
    const { pbx } = lab.bed;
    await pbx.action('QueueStatus');
    await pbx.pause('support', iface('101'), true, 'training');
    await pbx.action('QueueSummary', { Queue: 'support' });
    await pbx.action('QueuePenalty', { Queue: 'support', Interface: iface('103'), Penalty: '3' });
    await pbx.action('QueuePenalty', { Queue: 'support', Interface: iface('103'), Penalty: '0' });
    await pbx.pause('support', iface('101'), false);
    await sleep(1000);
    expect(telephony(live.portal)).toEqual([]);
    expect(live.process.alive()).toBe(true);
  });
});
