import { describe, expect, it } from 'vitest';
import { ringBackConfig } from '../../src/config/ringback.js';
import { RingBackPolicy, timerIdOf } from '../../src/ringback/policy.js';
import type { MemberSnapshot, RingBackEffect, RingBackInput } from '../../src/ringback/types.js';
import { isAction, OUR_REASON } from './support.js';

/** The policy's rules, one at a time, with hand-made inputs. Times are in ms from 0. */

const A = 'Local/201@agents/n';
const B = 'Local/202@agents/n';
const S = 1000;

const params = (queue: string, strategy: string, at = 0): RingBackInput => ({ kind: 'queueParams', at, queue, strategy });
const miss = (at: number, iface = A, queue = 'sales', ringTimeMs = 5000): RingBackInput => ({
  kind: 'ringNoAnswer',
  at,
  queue,
  iface,
  memberName: iface === A ? 'Agent 201' : 'Agent 202',
  ringTimeMs,
});
const connect = (at: number, iface = A, queue = 'sales'): RingBackInput => ({ kind: 'agentConnect', at, queue, iface, memberName: '' });
const pauseEvent = (at: number, paused: boolean, reason: string, iface = A, queue = 'sales'): RingBackInput => ({
  kind: 'memberPause',
  at,
  queue,
  iface,
  memberName: '',
  paused,
  reason,
});
const penaltyEvent = (at: number, penalty: number, iface = A): RingBackInput => ({ kind: 'memberPenalty', at, queue: 'sales', iface, memberName: '', penalty });
const result = (at: number, op: 'pause' | 'unpause' | 'raisePenalty' | 'restorePenalty', outcome: 'ok' | 'failed' | 'timeout' | 'disconnected', iface = A, message?: string): RingBackInput => ({
  kind: 'actionResult',
  at,
  op,
  queue: 'sales',
  iface,
  outcome,
  ...(message === undefined ? {} : { message }),
});
const timer = (at: number, policy: 'pause' | 'penalty' = 'pause', iface = A): RingBackInput => ({ kind: 'timer', at, id: timerIdOf({ policy, queue: 'sales', iface }) });
const member = (over: Partial<MemberSnapshot> = {}): MemberSnapshot => ({
  queue: 'sales',
  iface: A,
  memberName: 'Agent 201',
  paused: false,
  reason: '',
  penalty: 0,
  lastPauseAt: 0,
  ...over,
});
const snapshotAt = (at: number, members: MemberSnapshot[], requestedAt = at): RingBackInput => ({
  kind: 'reconcile',
  at,
  requestedAt,
  queues: [{ queue: 'sales', strategy: 'leastrecent' }, { queue: 'support', strategy: 'ringall' }],
  members,
});

function setUp(overrides: Parameters<typeof ringBackConfig>[0] = {}) {
  const policy = new RingBackPolicy(ringBackConfig(overrides));
  policy.handle(params('sales', 'leastrecent'));
  policy.handle(params('support', 'ringall'));
  return policy;
}

const actionsOf = (effects: RingBackEffect[]) => effects.filter(isAction);
const logsOf = (effects: RingBackEffect[]) => effects.flatMap((e) => (e.type === 'log' && e.level !== 'debug' ? [[e.event, e.cause]] : []));

/** Miss, Success, and Asterisk's own QueueMemberPause: the pause stands. */
function paused(policy: RingBackPolicy, at = 0): void {
  policy.handle(miss(at));
  policy.handle(result(at, 'pause', 'ok'));
  policy.handle(pauseEvent(at + 1, true, OUR_REASON));
}

describe('which missed rings count', () => {
  it('a ring shorter than minRingTimeMs is a busy member, not a miss', () => {
    const policy = setUp();
    expect(actionsOf(policy.handle(miss(0, A, 'sales', 0)))).toEqual([]);
    expect(actionsOf(policy.handle(miss(0, A, 'sales', 999)))).toEqual([]);
    expect(actionsOf(policy.handle(miss(0, A, 'sales', 1000)))).toHaveLength(1);
  });

  it('with missesBeforeAction 2 the first miss is only counted, the second pauses', () => {
    const policy = setUp({ missesBeforeAction: 2 });
    expect(actionsOf(policy.handle(miss(0)))).toEqual([]);
    expect(actionsOf(policy.handle(miss(6 * S)))).toEqual([{ type: 'pause', queue: 'sales', iface: A, reason: OUR_REASON, cooldownMs: 60_000 }]);
  });

  it('an answered call between two misses starts the count again', () => {
    const policy = setUp({ missesBeforeAction: 2 });
    policy.handle(miss(0));
    policy.handle(connect(S));
    expect(actionsOf(policy.handle(miss(6 * S)))).toEqual([]);
  });

  it('a ringall queue is left alone, unless configured on; a leastrecent queue configured off is left alone', () => {
    expect(actionsOf(setUp().handle(miss(0, A, 'support', 15_000)))).toEqual([]);
    expect(actionsOf(setUp({ queues: { support: 'on' } }).handle(miss(0, A, 'support', 15_000)))).toHaveLength(1);
    expect(actionsOf(setUp({ queues: { sales: 'off' } }).handle(miss(0)))).toEqual([]);
    expect(actionsOf(setUp({ enabled: false }).handle(miss(0)))).toEqual([]);
  });

  it('a miss in a queue of unknown strategy asks for it once, and is acted on when it arrives', () => {
    const policy = new RingBackPolicy(ringBackConfig());
    expect(policy.handle(miss(0, A, 'late'))).toEqual([{ type: 'queryQueue', queue: 'late' }]);
    expect(policy.handle(miss(1, B, 'late'))).toEqual([]);
    const effects = policy.handle(params('late', 'fewestcalls', 5));
    expect(actionsOf(effects).map((e) => e.iface)).toEqual([A, B]);
  });

  it('a member someone else paused is not paused again: that would overwrite their reason', () => {
    const policy = setUp();
    policy.handle(pauseEvent(0, true, 'lunch'));
    const effects = policy.handle(miss(S));
    expect(actionsOf(effects)).toEqual([]);
    expect(logsOf(effects)).toEqual([['skipped', 'alreadyPaused']]);
  });
});

describe('undo', () => {
  it('the cooldown timer unpauses exactly the member and queue we paused', () => {
    const policy = setUp();
    paused(policy);
    expect(actionsOf(policy.handle(timer(60 * S)))).toEqual([{ type: 'unpause', queue: 'sales', iface: A, cause: 'cooldownOver' }]);
    expect(logsOf(policy.handle(result(60 * S, 'unpause', 'ok')))).toEqual([['undone', 'cooldownOver']]);
    expect(policy.snapshot().changes).toEqual([]);
  });

  it('answering a call, in any queue, undoes the pause at once and cancels the timer', () => {
    const policy = setUp();
    paused(policy);
    const effects = policy.handle(connect(10 * S, A, 'support'));
    expect(effects).toContainEqual({ type: 'cancelTimer', id: timerIdOf({ policy: 'pause', queue: 'sales', iface: A }) });
    expect(actionsOf(effects)).toEqual([{ type: 'unpause', queue: 'sales', iface: A, cause: 'answered' }]);
  });

  it('a member removed from the queue (logged out) is forgotten without sending anything', () => {
    const policy = setUp();
    paused(policy);
    const effects = policy.handle({ kind: 'memberRemoved', at: S, queue: 'sales', iface: A, memberName: '' });
    expect(actionsOf(effects)).toEqual([]);
    expect(logsOf(effects)).toEqual([['forgotten', 'memberRemoved']]);
  });

  it('a pause a human took over with another reason is never undone by us', () => {
    const policy = setUp();
    paused(policy);
    const effects = policy.handle(pauseEvent(5 * S, true, 'lunch'));
    expect(logsOf(effects)).toEqual([['forgotten', 'pausedByOther']]);
    expect(actionsOf(policy.handle(timer(60 * S)))).toEqual([]);
    expect(actionsOf(policy.handle(connect(70 * S)))).toEqual([]);
  });

  it('an event published before our pause took hold is stale and changes nothing', () => {
    const policy = setUp();
    policy.handle(miss(0));
    policy.handle(pauseEvent(1, false, '')); // published before ours, delivered after our response
    policy.handle(result(1, 'pause', 'ok'));
    policy.handle(pauseEvent(2, true, OUR_REASON));
    expect(actionsOf(policy.handle(timer(60 * S)))).toHaveLength(1);
  });

  it('a refused QueuePause ("Interface not found") is forgotten: nothing to undo, no timer left', () => {
    const policy = setUp();
    policy.handle(miss(0));
    const effects = policy.handle(result(1, 'pause', 'failed', A, 'Interface not found'));
    expect(logsOf(effects)).toEqual([['failed', 'actionFailed']]);
    expect(effects).toContainEqual({ type: 'cancelTimer', id: timerIdOf({ policy: 'pause', queue: 'sales', iface: A }) });
    expect(policy.snapshot().changes).toEqual([]);
  });

  it('an undo that timed out is sent again after a while; one lost to a disconnect waits for the reconcile', () => {
    const policy = setUp();
    paused(policy);
    policy.handle(timer(60 * S));
    const retry = policy.handle(result(63 * S, 'unpause', 'timeout'));
    expect(retry).toContainEqual({ type: 'scheduleTimer', id: timerIdOf({ policy: 'pause', queue: 'sales', iface: A }), at: 68 * S });
    expect(actionsOf(policy.handle(timer(68 * S)))).toHaveLength(1);
    const lost = policy.handle(result(68 * S, 'unpause', 'disconnected'));
    expect(lost.some((e) => e.type === 'scheduleTimer')).toBe(false);
    const after = policy.handle(snapshotAt(70 * S, [member({ paused: true, reason: OUR_REASON })]));
    expect(actionsOf(after)).toEqual([{ type: 'unpause', queue: 'sales', iface: A, cause: 'cooldownOver' }]);
  });
});

describe('a pause taken over while ours waits for its event', () => {
  // app_queue publishes a member's pause events in the order it applies them: their event before ours means their
  // pause came first and ours landed on it, overwriting their reason (autopause-policy.test.ts has the autopause case).
  it('is handed back with their reason, not unpaused, when their pause event comes before ours', () => {
    const policy = setUp();
    policy.handle(miss(0));
    policy.handle(result(1, 'pause', 'ok')); // our own QueueMemberPause has not come yet
    const effects = policy.handle(pauseEvent(2 * S, true, 'lunch'));
    expect(actionsOf(effects)).toEqual([{ type: 'handBack', queue: 'sales', iface: A, reason: 'lunch' }]);
    expect(logsOf(effects)).toEqual([['handedBack', 'pausedByOther']]);
    expect(actionsOf(policy.handle(timer(60 * S)))).toEqual([]);
    expect(policy.snapshot().changes).toEqual([]);
  });

  it('is not undone by an answered call or a shutdown either', () => {
    for (const last of [connect(10 * S, A, 'support'), { kind: 'release', at: 10 * S } as RingBackInput]) {
      const policy = setUp();
      policy.handle(miss(0));
      policy.handle(result(1, 'pause', 'ok'));
      policy.handle(pauseEvent(2 * S, true, 'lunch'));
      expect(actionsOf(policy.handle(last))).toEqual([]);
    }
  });
});

describe('the pause reason of each change', () => {
  it('undoes a pause made with the reason configured before a reload, and confirms it by that reason', () => {
    const policy = setUp();
    policy.handle(miss(0));
    policy.handle(result(1, 'pause', 'ok'));
    policy.reconfigure(ringBackConfig({ reason: 'bridge:missed' }));
    policy.handle(pauseEvent(2, true, OUR_REASON)); // Asterisk's event for the pause we sent with the old reason
    expect(policy.snapshot().changes).toMatchObject([{ phase: 'active', reason: OUR_REASON }]);
    expect(actionsOf(policy.handle(timer(60 * S)))).toEqual([{ type: 'unpause', queue: 'sales', iface: A, cause: 'cooldownOver' }]);
  });

  it('after a restart with a new reason, the reconcile still knows the old pause as ours and undoes it when due', () => {
    const first = setUp();
    paused(first);
    const saved = JSON.parse(JSON.stringify(first.snapshot()));
    const policy = new RingBackPolicy(ringBackConfig({ reason: 'bridge:missed' }), saved);
    const effects = policy.handle(snapshotAt(70 * S, [member({ paused: true, reason: OUR_REASON })]));
    expect(actionsOf(effects)).toEqual([{ type: 'unpause', queue: 'sales', iface: A, cause: 'cooldownOver' }]);
    expect(logsOf(effects)).toEqual([]);
  });

  it('pauses with the new reason after a reload', () => {
    const policy = setUp();
    policy.reconfigure(ringBackConfig({ reason: 'bridge:missed' }));
    expect(actionsOf(policy.handle(miss(0)))).toMatchObject([{ type: 'pause', reason: 'bridge:missed' }]);
  });

  it('reads a state file from before reasons were saved as made with the configured reason', () => {
    const first = setUp();
    paused(first);
    const saved = JSON.parse(JSON.stringify(first.snapshot()));
    for (const c of saved.changes) delete c.reason;
    const policy = new RingBackPolicy(ringBackConfig(), saved);
    const effects = policy.handle(snapshotAt(70 * S, [member({ paused: true, reason: OUR_REASON })]));
    expect(actionsOf(effects)).toEqual([{ type: 'unpause', queue: 'sales', iface: A, cause: 'cooldownOver' }]);
  });
});

describe('reconfigure (SIGHUP)', () => {
  it('keeps a confirmed pause armed: its timer unpauses at the original deadline, an answer undoes it, a release too', () => {
    for (const last of [timer(60 * S), connect(10 * S), { kind: 'release', at: 10 * S } as RingBackInput]) {
      const policy = setUp({ cooldownSec: 60 });
      paused(policy);
      policy.reconfigure(ringBackConfig({ cooldownSec: 5 }));
      expect(actionsOf(policy.handle(last))).toMatchObject([{ type: 'unpause', queue: 'sales', iface: A }]);
    }
  });

  it('uses the new cooldown for the next change and keeps the strategies it learned', () => {
    const policy = setUp({ cooldownSec: 60 });
    policy.reconfigure(ringBackConfig({ cooldownSec: 5 }));
    expect(actionsOf(policy.handle(miss(0)))).toMatchObject([{ type: 'pause', cooldownMs: 5000 }]);
  });
});

describe('escalation', () => {
  it('doubles the cooldown for each new miss after an undo, up to maxCooldownSec', () => {
    const policy = setUp({ cooldownSec: 10, escalation: { factor: 2, maxCooldownSec: 30 } });
    const cooldowns: number[] = [];
    let t = 0;
    for (let n = 0; n < 4; n++) {
      const pause = actionsOf(policy.handle(miss(t))).find((e) => e.type === 'pause');
      cooldowns.push(pause?.type === 'pause' ? pause.cooldownMs : -1);
      policy.handle(result(t, 'pause', 'ok'));
      t += 100 * S;
      policy.handle(timer(t));
      policy.handle(result(t, 'unpause', 'ok'));
      t += S;
    }
    expect(cooldowns).toEqual([10_000, 20_000, 30_000, 30_000]);
  });

  it('starts again from cooldownSec after an answered call, or after resetAfterSec without action', () => {
    const policy = setUp({ cooldownSec: 10, escalation: { resetAfterSec: 300 } });
    paused(policy);
    policy.handle(timer(10 * S));
    policy.handle(result(10 * S, 'unpause', 'ok'));
    policy.handle(connect(20 * S, A, 'support'));
    expect(actionsOf(policy.handle(miss(30 * S)))).toMatchObject([{ cooldownMs: 10_000 }]);
    policy.handle(result(30 * S, 'pause', 'ok'));
    policy.handle(timer(40 * S));
    policy.handle(result(40 * S, 'unpause', 'ok'));
    expect(actionsOf(policy.handle(miss(400 * S)))).toMatchObject([{ cooldownMs: 10_000 }]);
  });
});

describe('penalty policy', () => {
  it('raises the penalty by penaltyRaise over the current one and restores exactly that one', () => {
    const policy = setUp({ policy: 'penalty' });
    policy.handle(snapshotAt(0, [member({ penalty: 2 })]));
    expect(actionsOf(policy.handle(miss(S)))).toEqual([{ type: 'setPenalty', queue: 'sales', iface: A, penalty: 12, purpose: 'raise', restoreTo: 2 }]);
    policy.handle(result(S, 'raisePenalty', 'ok'));
    policy.handle(penaltyEvent(S + 1, 12));
    expect(actionsOf(policy.handle(timer(61 * S, 'penalty')))).toEqual([{ type: 'setPenalty', queue: 'sales', iface: A, penalty: 2, purpose: 'restore' }]);
  });

  it('does not raise a penalty it has never seen: restoring a guess would change the admin\'s setting', () => {
    const policy = setUp({ policy: 'penalty' });
    const effects = policy.handle(miss(0));
    expect(actionsOf(effects)).toEqual([]);
    expect(logsOf(effects)).toEqual([['skipped', 'penaltyUnknown']]);
    policy.handle({ ...pauseEvent(S, false, ''), penalty: 4 } as RingBackInput);
    expect(actionsOf(policy.handle(miss(2 * S)))).toMatchObject([{ type: 'setPenalty', penalty: 14, restoreTo: 4 }]);
  });

  it('a penalty changed by someone else (or reset by a queue reload) is left as it is', () => {
    const policy = setUp({ policy: 'penalty' });
    policy.handle(snapshotAt(0, [member()]));
    policy.handle(miss(0));
    policy.handle(result(0, 'raisePenalty', 'ok'));
    policy.handle(penaltyEvent(1, 10));
    policy.handle(snapshotAt(5 * S, [member({ penalty: 0 })])); // reload: back to the config value, no event
    expect(actionsOf(policy.handle(timer(60 * S, 'penalty')))).toEqual([]);
    expect(policy.snapshot().changes).toEqual([]);
  });
});

describe('reconcile after a restart (a new policy on the saved state)', () => {
  function savedWithTwoPauses() {
    const first = setUp({ cooldownSec: 60 });
    paused(first, 0);
    first.handle(miss(30 * S, B));
    first.handle(result(30 * S, 'pause', 'ok', B));
    first.handle(pauseEvent(30 * S + 1, true, OUR_REASON, B));
    return JSON.parse(JSON.stringify(first.snapshot()));
  }

  it('does nothing with saved changes before QueueStatus has been read', () => {
    const policy = new RingBackPolicy(ringBackConfig(), savedWithTwoPauses());
    expect(actionsOf(policy.handle(timer(61 * S)))).toEqual([]);
    expect(actionsOf(policy.handle(connect(61 * S)))).toEqual([]);
    expect(actionsOf(policy.handle({ kind: 'release', at: 61 * S }))).toEqual([]);
  });

  it('undoes what is due, re-arms the rest at its original time', () => {
    const policy = new RingBackPolicy(ringBackConfig(), savedWithTwoPauses());
    const members = [member({ paused: true, reason: OUR_REASON }), member({ iface: B, memberName: 'Agent 202', paused: true, reason: OUR_REASON })];
    const effects = policy.handle(snapshotAt(70 * S, members));
    expect(actionsOf(effects)).toEqual([{ type: 'unpause', queue: 'sales', iface: A, cause: 'cooldownOver' }]);
    expect(effects).toContainEqual({ type: 'scheduleTimer', id: timerIdOf({ policy: 'pause', queue: 'sales', iface: B }), at: 90 * S });
  });

  it('forgets a pause a human took over, one Asterisk lost in its restart, and a member that is gone', () => {
    const policy = new RingBackPolicy(ringBackConfig(), savedWithTwoPauses());
    const effects = policy.handle(snapshotAt(40 * S, [member({ paused: true, reason: 'lunch' })]));
    expect(actionsOf(effects)).toEqual([]);
    expect(logsOf(effects)).toEqual([
      ['forgotten', 'pausedByOther'],
      ['forgotten', 'memberGone'],
    ]);
    const other = new RingBackPolicy(ringBackConfig(), savedWithTwoPauses());
    const lost = other.handle(snapshotAt(40 * S, [member(), member({ iface: B })]));
    expect(logsOf(lost)).toEqual([
      ['forgotten', 'unpausedByOther'],
      ['forgotten', 'unpausedByOther'],
    ]);
  });

  it('keeps a pause whose reason a queue reload erased: it is still ours', () => {
    const policy = setUp();
    paused(policy);
    const effects = policy.handle(snapshotAt(10 * S, [member({ paused: true, reason: '' })]));
    expect(logsOf(effects)).toEqual([]);
    expect(actionsOf(policy.handle(timer(60 * S)))).toHaveLength(1);
  });

  it('adopts a pause with our reason it has no record of, due at its LastPause plus a cooldown', () => {
    const policy = setUp();
    const effects = policy.handle(snapshotAt(100 * S, [member({ paused: true, reason: OUR_REASON, lastPauseAt: 20 * S })]));
    expect(logsOf(effects)).toEqual([['adopted', 'foundAtReconcile']]);
    expect(actionsOf(effects)).toEqual([{ type: 'unpause', queue: 'sales', iface: A, cause: 'cooldownOver' }]);
  });

  it('lets an event newer than the QueueStatus request win over the snapshot', () => {
    const policy = setUp();
    paused(policy);
    policy.handle(pauseEvent(10 * S, true, 'lunch')); // taken over while QueueStatus was on its way
    const effects = policy.handle(snapshotAt(11 * S, [member({ paused: true, reason: OUR_REASON })], 9 * S));
    expect(actionsOf(effects)).toEqual([]);
    expect(logsOf(effects)).toEqual([]);
  });
});

describe('state', () => {
  it('survives JSON and release undoes every change held', () => {
    const policy = setUp({ policy: 'penalty' });
    policy.handle(snapshotAt(0, [member()]));
    policy.handle(miss(0));
    policy.handle(result(0, 'raisePenalty', 'ok'));
    const restored = new RingBackPolicy(ringBackConfig({ policy: 'penalty' }), JSON.parse(JSON.stringify(policy.snapshot())));
    restored.handle(snapshotAt(S, [member({ penalty: 10 })]));
    expect(actionsOf(restored.handle({ kind: 'release', at: 2 * S }))).toEqual([
      { type: 'setPenalty', queue: 'sales', iface: A, penalty: 0, purpose: 'restore' },
    ]);
  });

  it('asks for a save before each action it emits', () => {
    const policy = setUp();
    const effects = policy.handle(miss(0));
    expect(effects[0]).toEqual({ type: 'persist' });
    expect(effects.findIndex((e) => e.type === 'pause')).toBeGreaterThan(0);
  });
});

describe('an admin releases a member early (the live view)', () => {
  const release = (at: number, iface = A, queue = 'sales'): RingBackInput => ({ kind: 'releaseMember', at, queue, iface });

  it('unpauses exactly that member before the cooldown ends, cancels its timer, and the change goes with the answer', () => {
    const policy = setUp();
    paused(policy);
    const effects = policy.handle(release(10 * S));
    expect(actionsOf(effects)).toEqual([{ type: 'unpause', queue: 'sales', iface: A, cause: 'released' }]);
    expect(effects).toContainEqual({ type: 'cancelTimer', id: timerIdOf({ policy: 'pause', queue: 'sales', iface: A }) });
    expect(policy.snapshot().changes.map((c) => c.phase)).toEqual(['undoing']);
    expect(logsOf(policy.handle(result(10 * S, 'unpause', 'ok')))).toEqual([['undone', 'released']]);
    expect(policy.snapshot().changes).toEqual([]);
  });

  it('a penalty is put back to what it was', () => {
    const policy = setUp({ policy: 'penalty', penaltyRaise: 10 });
    policy.handle(penaltyEvent(0, 2));
    policy.handle(miss(S));
    expect(actionsOf(policy.handle(release(5 * S)))).toEqual([{ type: 'setPenalty', queue: 'sales', iface: A, penalty: 2, purpose: 'restore' }]);
  });

  it('another member, another queue, or a change already being undone is left alone', () => {
    const policy = setUp();
    paused(policy);
    expect(actionsOf(policy.handle(release(S, B)))).toEqual([]);
    expect(actionsOf(policy.handle(release(S, A, 'support')))).toEqual([]);
    policy.handle(release(2 * S));
    expect(actionsOf(policy.handle(release(3 * S)))).toEqual([]);
  });

  it('a pause someone else made after ours is not ended: our change is forgotten instead', () => {
    const policy = setUp();
    paused(policy);
    policy.handle(pauseEvent(5 * S, true, 'lunch'));
    const effects = policy.handle(release(6 * S));
    expect(actionsOf(effects)).toEqual([]);
    expect(policy.snapshot().changes).toEqual([]);
  });
});
