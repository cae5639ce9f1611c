import { describe, expect, it } from 'vitest';
import type { Effect, FinishCall } from '../../src/core/effects.js';
import { replayTrace } from '../support/restart-replay.js';
import { DEFAULT_USER, expectedEffects as expected, replay, traceNames, TRACE_USERS, type TimedEffect } from '../support/traces.js';
import { ISSUE_14_CORE_CASES } from './issue14-cases.js';

const of = <T extends Effect['type']>(effects: TimedEffect[], type: T) =>
  effects.map((e) => e.effect).filter((e): e is Extract<Effect, { type: T }> => e.type === type);

describe('every real trace through the core', () => {
  // Issue 14's cases 1-3 are held to what Bitrix24 must see, in issue14-traces.test.ts.
  const exact = traceNames().filter((n) => !ISSUE_14_CORE_CASES.includes(n));

  it.each(exact)('%s gives exactly the reviewed effects', async (name) => {
    expect(await replayTrace(name), '`npm run golden` rewrites the expected file and shows the difference for review').toEqual(expected(name));
  });

  it.each(traceNames())('%s registers each call once, finishes it once, and closes every card it opened', async (name) => {
    const effects = await replayTrace(name);
    const registers = of(effects, 'register').map((e) => e.linkedid);
    const finishes = of(effects, 'finish').map((e) => e.linkedid);
    expect(new Set(registers).size).toBe(registers.length);
    expect(new Set(finishes).size).toBe(finishes.length);
    expect([...finishes].sort()).toEqual([...registers].sort());
    // Cards: every user shown must be hidden before the finish, or be the finishing user.
    const open = new Map<string, Set<number>>();
    for (const { effect } of effects) {
      if (effect.type === 'register') open.set(effect.linkedid, new Set());
      if (effect.type === 'show') for (const u of effect.userIds) open.get(effect.linkedid)!.add(u);
      if (effect.type === 'hide') for (const u of effect.userIds) open.get(effect.linkedid)!.delete(u);
      if (effect.type === 'finish') {
        const left = [...open.get(effect.linkedid)!].filter((u) => u !== effect.userId);
        expect(left, `cards left open on ${effect.linkedid}`).toEqual([]);
      }
      if (effect.type !== 'register' && effect.type !== 'callEnded' && 'linkedid' in effect) {
        expect(registers.indexOf(effect.linkedid), 'nothing before the register').toBeGreaterThanOrEqual(0);
      }
    }
  });
});

function finishOf(name: string, phone: string): FinishCall {
  const effects = replay(name);
  const reg = of(effects, 'register').find((r) => r.phoneNumber === phone);
  expect(reg, `a register for ${phone}`).toBeDefined();
  const fin = of(effects, 'finish').find((f) => f.linkedid === reg!.linkedid);
  expect(fin).toBeDefined();
  return fin!;
}

describe('what Bitrix24 should see for each trace (fixtures README table)', () => {
  it('support_ringall_answer: cards to 101-103, 101 and 103 hidden on answer, finished by 102 after about 5 s', () => {
    const effects = replay('support_ringall_answer');
    expect(of(effects, 'show').flatMap((s) => s.userIds)).toEqual([11, 12, 13]);
    expect(of(effects, 'hide').flatMap((s) => s.userIds)).toEqual([11, 13]);
    expect(finishOf('support_ringall_answer', '5551001')).toMatchObject({ userId: TRACE_USERS['102'], durationSec: 5, status: '200' });
    expect(of(effects, 'register')[0]).toMatchObject({ callType: 2, phoneNumber: '5551001', crmCreate: true });
  });

  it('sales_leastrecent_ringback: warm-ups finished by 202 and 203; the main call missed after 201 rang seven times', () => {
    expect(finishOf('sales_leastrecent_ringback', '5552001')).toMatchObject({ userId: 22, status: '200' });
    expect(finishOf('sales_leastrecent_ringback', '5552002')).toMatchObject({ userId: 23, status: '200' });
    expect(finishOf('sales_leastrecent_ringback', '5552099')).toMatchObject({ userId: DEFAULT_USER, status: '304', durationSec: 0 });
    const main = of(replay('sales_leastrecent_ringback'), 'show').filter((s) => s.userIds.includes(21));
    expect(main).toHaveLength(7);
  });

  it('caller_abandon: all three cards hidden when the caller leaves, missed call for the default user', () => {
    const effects = replay('caller_abandon');
    expect(of(effects, 'hide').flatMap((h) => h.userIds).sort()).toEqual([11, 12, 13]);
    expect(finishOf('caller_abandon', '5553001')).toMatchObject({ userId: DEFAULT_USER, status: '304', durationSec: 0 });
  });

  it('click_to_call: an outbound call by 101 to 5559876, about 6 s, answered', () => {
    const [reg] = of(replay('click_to_call'), 'register');
    expect(reg).toMatchObject({ callType: 1, userId: 11, phoneNumber: '5559876', crmCreate: false });
    expect(finishOf('click_to_call', '5559876')).toMatchObject({ userId: 11, durationSec: 6, status: '200' });
  });

  it('blind_transfer: the card moves from 102 to 103, finished by 103 who talked last', () => {
    const effects = replay('blind_transfer');
    const moves = effects.filter((e) => e.t > 4).map((e) => e.effect);
    expect(moves.slice(0, 2)).toEqual([
      { type: 'hide', linkedid: '1795263589.58', userIds: [12] },
      { type: 'show', linkedid: '1795263589.58', userIds: [13] },
    ]);
    expect(finishOf('blind_transfer', '5555001')).toMatchObject({ userId: 13, status: '200', durationSec: 11 });
  });

  it('recording: finished by 102 after about 6 s, then the caller channel recording is attached', () => {
    const effects = replay('recording');
    expect(finishOf('recording', '5558001')).toMatchObject({ userId: 12, durationSec: 6, status: '200' });
    expect(of(effects, 'attachRecording')).toEqual([expect.objectContaining({ path: '/var/spool/asterisk/monitor/1795263642.90.wav' })]);
    const types = effects.map((e) => e.effect.type);
    expect(types.indexOf('attachRecording')).toBeGreaterThan(types.indexOf('finish'));
  });

  it('queue_actions: no call at all, nothing registered', () => {
    expect(replay('queue_actions')).toEqual([]);
  });

  it('no_members_all_paused: registered and finished as missed with no card', () => {
    const effects = replay('no_members_all_paused');
    expect(of(effects, 'show')).toEqual([]);
    expect(finishOf('no_members_all_paused', '5554002')).toMatchObject({ userId: DEFAULT_USER, status: '304' });
  });

  it('ringback_fixed_pause: with 201 paused after one miss, 202 takes the call', () => {
    expect(finishOf('ringback_fixed_pause', '5552099')).toMatchObject({ userId: 22, status: '200', durationSec: 10 });
  });
});
