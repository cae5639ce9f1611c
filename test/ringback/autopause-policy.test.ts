import { describe, expect, it } from 'vitest';
import type { RingBackInput } from '../../src/ringback/types.js';
import { drive, effectsOf, isAction, OUR_REASON, policyFor, traceInputs, type TimedEffect } from './support.js';

/**
 * Issue 14 case 4: with `autopause = yes` Asterisk pauses a member who misses (app_queue `rna()`: AgentRingNoAnswer,
 * then QueueMemberPause `PausedReason: Auto-Pause` with the same Timestamp). The bridge must not act on a member
 * Asterisk paused itself for that miss, whichever of the two events comes first, and never undoes a pause it cannot
 * prove is still its own. The inputs are the recorded ones (test/fixtures/ami/autopause, autopause_with_fix),
 * reordered where a case needs another order.
 */

const IFACE_301 = 'Local/301@agents/n';
const Q = 'sales_autopause';

const recorded = traceInputs('autopause');
const queueParams = { kind: 'queueParams', at: recorded[0]!.at, queue: Q, strategy: 'leastrecent' } as const;
const miss = recorded.find((i) => i.kind === 'ringNoAnswer' && i.iface === IFACE_301)!;
const autoPause = recorded.find((i) => i.kind === 'memberPause' && i.iface === IFACE_301 && i.paused)!;
const answer302 = recorded.find((i) => i.kind === 'agentConnect')!;
/** Our own QueueMemberPause as autopause_with_fix recorded it (1 ms after Asterisk's). */
const ourPause = traceInputs('autopause_with_fix').find((i) => i.kind === 'memberPause' && i.paused && i.reason === OUR_REASON)!;
const later = (i: RingBackInput, ms: number): RingBackInput => ({ ...i, at: miss.at + ms });
const shutdown: RingBackInput = { kind: 'release', at: miss.at + 20_000 };

const actions = (timed: TimedEffect[]) => timed.map((e) => e.effect).filter(isAction);
const logs = (timed: TimedEffect[]) => effectsOf(timed, 'log').filter((l) => l.effect.level !== 'debug').map((l) => [l.effect.event, l.effect.cause]);

interface Case {
  name: string;
  policy: 'pause' | 'penalty';
  /** After the queue's parameters; answers to our actions are Success, given at once. */
  inputs: RingBackInput[];
  actions: unknown[];
  logs: string[][];
}

const CASES: Case[] = [
  {
    name: 'Auto-Pause first, then the miss: nothing is sent, ever',
    policy: 'pause',
    inputs: [autoPause, miss, answer302, shutdown],
    actions: [],
    logs: [['skipped', 'alreadyPaused']],
  },
  {
    name: 'the miss first (as recorded), Auto-Pause before our own event: our pause is handed back with Auto-Pause, never unpaused',
    policy: 'pause',
    inputs: [miss, autoPause, later(ourPause, 1), answer302, shutdown],
    actions: [
      { type: 'pause', queue: Q, iface: IFACE_301, reason: OUR_REASON, cooldownMs: 60_000 },
      { type: 'handBack', queue: Q, iface: IFACE_301, reason: 'Auto-Pause' },
    ],
    // Asterisk answered our QueuePause with Success before its events came.
    logs: [
      ['applied', 'noAnswer'],
      ['handedBack', 'pausedByOther'],
    ],
  },
  {
    name: 'the miss first, our pause landed before Asterisk paused: Asterisk\'s pause stands, ours is forgotten',
    policy: 'pause',
    inputs: [miss, later(ourPause, 1), later(autoPause, 2), answer302, shutdown],
    actions: [{ type: 'pause', queue: Q, iface: IFACE_301, reason: OUR_REASON, cooldownMs: 60_000 }],
    logs: [
      ['applied', 'noAnswer'],
      ['forgotten', 'pausedByOther'],
    ],
  },
  {
    name: 'penalty policy, Auto-Pause first: no penalty on a paused member',
    policy: 'penalty',
    inputs: [{ kind: 'memberAdded', at: miss.at - 10_000, member: { queue: Q, iface: IFACE_301, memberName: 'Agent 301', paused: false, reason: '', penalty: 0, lastPauseAt: 0 } }, autoPause, miss, shutdown],
    actions: [],
    logs: [['skipped', 'alreadyPaused']],
  },
  {
    name: 'penalty policy, the miss first: the raised penalty is put back as soon as Asterisk pauses the member',
    policy: 'penalty',
    inputs: [{ kind: 'memberAdded', at: miss.at - 10_000, member: { queue: Q, iface: IFACE_301, memberName: 'Agent 301', paused: false, reason: '', penalty: 0, lastPauseAt: 0 } }, miss, autoPause, shutdown],
    actions: [
      { type: 'setPenalty', queue: Q, iface: IFACE_301, penalty: 10, purpose: 'raise', restoreTo: 0 },
      { type: 'setPenalty', queue: Q, iface: IFACE_301, penalty: 0, purpose: 'restore' },
    ],
    logs: [
      ['applied', 'noAnswer'],
      ['undone', 'pausedByOther'],
    ],
  },
];

describe('autopause: the ring-back policy leaves a member Asterisk paused for the miss to Asterisk', () => {
  it.each(CASES)('$name', (c) => {
    const { policy } = policyFor({ policy: c.policy });
    const timed = drive(policy, [queueParams, ...c.inputs]);
    expect(actions(timed)).toEqual(c.actions);
    expect(logs(timed)).toEqual(c.logs);
    // Nothing of ours is left to undo later: no record, no timer, no unpause at shutdown.
    expect(policy.snapshot().changes).toEqual([]);
    expect(actions(timed).some((a) => a.type === 'unpause')).toBe(false);
  });

  it('our own pause event arriving after the hand-back is an echo: it is not adopted as a pause to undo', () => {
    const { policy } = policyFor();
    const timed = drive(policy, [queueParams, miss, autoPause, later(ourPause, 1), later({ ...autoPause }, 2)], { settle: false });
    expect(logs(timed).filter(([event]) => event === 'adopted')).toEqual([]);
    expect(policy.snapshot().changes).toEqual([]);
  });

  it('a reconcile after the hand-back that still shows our reason (asked before the hand-back landed) adopts nothing', () => {
    const { policy } = policyFor();
    drive(policy, [queueParams, miss, autoPause, later(ourPause, 1)], { settle: false });
    const effects = policy.handle({
      kind: 'reconcile',
      at: miss.at + 5,
      requestedAt: miss.at,
      queues: [{ queue: Q, strategy: 'leastrecent' }],
      members: [{ queue: Q, iface: IFACE_301, memberName: 'Agent 301', paused: true, reason: OUR_REASON, penalty: 0, lastPauseAt: miss.at }],
    });
    expect(effects.filter(isAction)).toEqual([]);
    expect(policy.snapshot().changes).toEqual([]);
  });

  it('the recorded autopause_with_fix trace through the fixed policy: one pause, one hand-back, no unpause', () => {
    const { policy } = policyFor();
    const timed = drive(policy, [queueParams, ...traceInputs('autopause_with_fix')]);
    // The recording client's own unpause at the end is someone else's action, as is Asterisk's pause.
    expect(actions(timed).map((a) => [a.type, a.iface, 'reason' in a ? a.reason : undefined])).toEqual([
      ['pause', IFACE_301, OUR_REASON],
      ['handBack', IFACE_301, 'Auto-Pause'],
    ]);
    expect(policy.snapshot().changes).toEqual([]);
  });

  it('the recorded autopause trace (Asterisk acting alone) through the fixed policy: the pause sent on the miss is handed back, never undone', () => {
    const { policy } = policyFor();
    const timed = drive(policy, [queueParams, ...traceInputs('autopause')]);
    expect(actions(timed).map((a) => [a.type, a.iface, 'reason' in a ? a.reason : undefined])).toEqual([
      ['pause', IFACE_301, OUR_REASON],
      ['handBack', IFACE_301, 'Auto-Pause'],
    ]);
    expect(policy.snapshot().changes).toEqual([]);
  });
});
