import { describe, expect, it } from 'vitest';
import { RingBackPolicy } from '../../src/ringback/policy.js';
import { ringBackConfig } from '../../src/config/ringback.js';
import { traceMessages, traceNames } from '../support/traces.js';
import { drive, effectsOf, IFACE_201, OUR_REASON, policyFor, traceInputs, type TimedEffect } from './support.js';

/** The recorded traces through normalize + policy, in virtual time, every action answered with Success. */

const about = (iface: string) => (e: TimedEffect) => 'iface' in e.effect && e.effect.iface === iface;
const actions = (timed: TimedEffect[]) => timed.filter((e) => ['pause', 'unpause', 'setPenalty'].includes(e.effect.type));

describe('sales_leastrecent_ringback (201 rung 7 times in 40 s while 202 and 203 sat idle)', () => {
  const inputs = traceInputs('sales_leastrecent_ringback');
  const firstMiss = inputs.find((i) => i.kind === 'ringNoAnswer');

  it('the first AgentRingNoAnswer of 201 (RingTime 5000) pauses Local/201@agents/n in sales with our reason, at once', () => {
    const { policy } = policyFor();
    const timed = drive(policy, inputs);
    const pauses = effectsOf(timed, 'pause');
    expect(pauses.map((p) => p.effect)).toEqual([{ type: 'pause', queue: 'sales', iface: IFACE_201, reason: OUR_REASON, cooldownMs: 60_000 }]);
    expect(firstMiss).toMatchObject({ kind: 'ringNoAnswer', iface: IFACE_201, ringTimeMs: 5000 });
    expect(pauses[0]!.at).toBe(firstMiss!.at);
  });

  it('records the pause before sending it, arms the cooldown timer, and undoes exactly that pause when it ends', () => {
    const { policy } = policyFor();
    const timed = drive(policy, inputs);
    const atMiss = timed.filter((e) => e.at === firstMiss!.at).map((e) => e.effect.type);
    expect(atMiss.slice(0, 3)).toEqual(['persist', 'pause', 'scheduleTimer']);
    const timer = effectsOf(timed, 'scheduleTimer')[0]!;
    expect(timer.effect.at).toBe(firstMiss!.at + 60_000);
    const unpauses = effectsOf(timed, 'unpause');
    expect(unpauses.map((u) => u.effect)).toEqual([{ type: 'unpause', queue: 'sales', iface: IFACE_201, cause: 'cooldownOver' }]);
    expect(unpauses[0]!.at).toBe(firstMiss!.at + 60_000);
    expect(policy.snapshot().changes).toEqual([]);
  });

  it('leaves 202 and 203 alone: their answered warm-up calls and the warm-up pauses are not ours', () => {
    const { policy } = policyFor();
    const timed = drive(policy, inputs);
    expect(actions(timed).filter((e) => !about(IFACE_201)(e))).toEqual([]);
  });

  it('handles each miss after an undo again, with a cooldown that grows and stops at the cap', () => {
    const { policy } = policyFor({ cooldownSec: 2, escalation: { factor: 2, maxCooldownSec: 5 } });
    const timed = drive(policy, inputs);
    const pauses = effectsOf(timed, 'pause').map((p) => p.effect.cooldownMs);
    expect(pauses).toEqual([2000, 4000, 5000, 5000, 5000, 5000]);
    expect(effectsOf(timed, 'unpause')).toHaveLength(6);
  });
});

describe('ringback_fixed_pause (the recording client acted as the fix)', () => {
  const inputs = traceInputs('ringback_fixed_pause');

  it('pauses 201 on its first miss, does nothing for 202 when it answers, and forgets the pause someone else undid', () => {
    const { policy } = policyFor();
    const timed = drive(policy, inputs);
    expect(effectsOf(timed, 'pause').map((p) => p.effect.iface)).toEqual([IFACE_201]);
    // 202 answered the call: nothing of ours concerned 202.
    expect(timed.filter(about('Local/202@agents/n'))).toEqual([]);
    // The recorder unpaused 201 itself after the call: that unpause is not ours to repeat.
    expect(effectsOf(timed, 'unpause')).toEqual([]);
    const logs = effectsOf(timed, 'log').map((l) => [l.effect.event, l.effect.cause]);
    expect(logs).toEqual([
      ['applied', 'noAnswer'],
      ['forgotten', 'unpausedByOther'],
    ]);
    expect(policy.snapshot().changes).toEqual([]);
  });
});

describe('ringback_fixed_pause: what Asterisk did after the pause (the issue\'s "next attempt goes to the next-longest-idle member")', () => {
  const messages = traceMessages('ringback_fixed_pause');
  const ts = (m: (typeof messages)[number]) => Math.round(Number(m['Timestamp']) * 1000);
  const miss = messages.find((m) => m['Event'] === 'AgentRingNoAnswer' && m['Interface'] === IFACE_201)!;
  const mainCall = String(miss['Linkedid']);
  const called = messages.filter((m) => m['Event'] === 'AgentCalled' && m['Linkedid'] === mainCall);
  // The recorder's QueueStatus just before the main call: leastrecent ranks by LastCall, oldest first.
  const beforeMain = messages.filter((m) => m['Event'] === 'QueueMember' && m['ActionID'] === 'ringback_fixed_pause-21' && m['Queue'] === 'sales');
  const byIdle = [...beforeMain].sort((a, b) => Number(a['LastCall']) - Number(b['LastCall'])).map((m) => m['Location']);

  it('rings 201 (the longest idle), then, once 201 is paused, 202 (the next-longest idle); 203 is never rung', () => {
    expect(byIdle).toEqual([IFACE_201, 'Local/202@agents/n', 'Local/203@agents/n']);
    expect(called.map((m) => m['Interface'])).toEqual([byIdle[0], byIdle[1]]);
    const pauseAt = messages.findIndex((m) => m['Event'] === 'QueueMemberPause' && m['Interface'] === IFACE_201 && m['Paused'] === '1' && m['PausedReason'] === OUR_REASON);
    const nextCalled = messages.findIndex((m, i) => i > pauseAt && m['Event'] === 'AgentCalled');
    expect(pauseAt).toBeGreaterThan(messages.indexOf(miss));
    expect(messages[nextCalled]).toBe(called[1]);
  });

  it('our policy pauses at the miss, inside the retry gap before that next attempt', () => {
    const { policy } = policyFor();
    const pause = effectsOf(drive(policy, traceInputs('ringback_fixed_pause')), 'pause')[0]!;
    expect(pause.effect).toMatchObject({ queue: 'sales', iface: IFACE_201, reason: OUR_REASON });
    expect(pause.at).toBe(ts(miss));
    expect(pause.at).toBeLessThan(ts(called[1]!));
  });
});

describe('ringback_fixed_penalty', () => {
  const inputs = traceInputs('ringback_fixed_penalty');

  it('never counts a busy member: AgentRingNoAnswer with RingTime 0 of 202 and 203 gives nothing', () => {
    for (const policyName of ['pause', 'penalty'] as const) {
      const { policy } = policyFor({ policy: policyName });
      const timed = drive(policy, inputs);
      const busy = inputs.filter((i) => i.kind === 'ringNoAnswer' && i.ringTimeMs === 0);
      expect(busy.length).toBeGreaterThanOrEqual(10);
      expect(actions(timed).filter((e) => !about(IFACE_201)(e))).toEqual([]);
    }
  });

  it('with the penalty policy raises 201 by penaltyRaise over its penalty 0 on the first miss', () => {
    const { policy } = policyFor({ policy: 'penalty' });
    const timed = drive(policy, inputs);
    expect(effectsOf(timed, 'setPenalty')[0]!.effect).toEqual({
      type: 'setPenalty',
      queue: 'sales',
      iface: IFACE_201,
      penalty: 10,
      purpose: 'raise',
      restoreTo: 0,
    });
  });
});

describe('every trace', () => {
  it.each(traceNames())('%s: every change the policy makes is undone, or handed over to whoever changed it since', (name) => {
    for (const policyName of ['pause', 'penalty'] as const) {
      const policy = new RingBackPolicy(ringBackConfig({ policy: policyName, cooldownSec: 3 }));
      const timed = drive(policy, traceInputs(name));
      const made = actions(timed).filter((e) => e.effect.type === 'pause' || (e.effect.type === 'setPenalty' && e.effect.purpose === 'raise'));
      const ended = effectsOf(timed, 'log').filter((l) => ['undone', 'forgotten', 'failed', 'handedBack'].includes(l.effect.event));
      const adopted = effectsOf(timed, 'log').filter((l) => l.effect.event === 'adopted');
      expect(ended.length, `${name} ${policyName}`).toBe(made.length + adopted.length);
      expect(policy.snapshot().changes).toEqual([]);
    }
  });

  it('a ringall queue is left alone: support_ringall_answer and caller_abandon give no action at all', () => {
    for (const name of ['support_ringall_answer', 'caller_abandon', 'no_members_all_paused']) {
      const { policy } = policyFor();
      expect(actions(drive(policy, traceInputs(name)))).toEqual([]);
    }
  });
});
