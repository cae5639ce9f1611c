import { describe, expect, it } from 'vitest';
import { newCall } from '../../src/core/call.js';
import { CALL_TABLE, transition, TransitionError, type CallPhase } from '../../src/core/call-table.js';
import type { ChannelSnapshot, CoreInputKind } from '../../src/core/events.js';
import { traceTracker } from '../support/traces.js';

/** The call table, tested directly as h11 tests its state machine: allowed moves happen, the others raise and nothing happens. */

const PHASES: CallPhase[] = ['tracking', 'ringing', 'talking', 'ended'];
const KINDS = Object.keys(CALL_TABLE) as CoreInputKind[];

/** What the table says, spelled out once more by hand: the test fails if either one changes alone. */
const ANSWERING = new Set<CoreInputKind>(['dialEnd', 'agentConnect', 'bridgeEnter', 'transfer']);
function allowed(kind: CoreInputKind, from: CallPhase, to: CallPhase): boolean {
  if (from === to) return true;
  if (from === 'ended' || kind === 'userMap') return false;
  if (to === 'ended') return true;
  if (kind === 'originateFailed') return false;
  if (from === 'tracking') return to === 'ringing';
  return from === 'ringing' && to === 'talking' && ANSWERING.has(kind);
}

const cases = KINDS.flatMap((kind) => PHASES.flatMap((from) => PHASES.map((to) => ({ kind, from, to, ok: allowed(kind, from, to) }))));

describe('the call table', () => {
  it('has a row for every input kind the core takes', () => {
    expect(KINDS.sort()).toEqual(
      [
        'agentCalled', 'agentComplete', 'agentConnect', 'agentRingNoAnswer', 'bridgeEnter', 'bridgeLeave', 'channel', 'clickToCall', 'dialBegin',
        'dialEnd', 'hangup', 'originateFailed', 'queueAbandon', 'queueJoin', 'queueLeave', 'resync', 'transfer', 'userMap', 'varSet',
      ].sort(),
    );
  });

  it.each(cases.filter((c) => c.ok))('$kind moves a call from $from to $to', ({ kind, from, to }) => {
    const call = { ...newCall('c.1', 0), phase: from };
    transition(call, to, kind);
    expect(call.phase).toBe(to);
  });

  it.each(cases.filter((c) => !c.ok))('$kind may not move a call from $from to $to: a TransitionError, and the call is as it was', ({ kind, from, to }) => {
    const call = { ...newCall('c.1', 0), phase: from };
    const before = structuredClone(call);
    let thrown: unknown;
    try {
      transition(call, to, kind);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(TransitionError);
    expect(thrown).toMatchObject({ linkedid: 'c.1', from, to, kind, message: `call c.1: ${from} -> ${to} is not allowed on ${kind}` });
    expect(call).toEqual(before);
  });
});

describe('a call that breaks the table', () => {
  const chan = (uniqueid: string, linkedid: string, name: string, context: string, callerIdNum = ''): ChannelSnapshot =>
    ({ uniqueid, linkedid, name, context, exten: '', callerIdNum, callerIdName: '' });

  it('is dropped alone, reported once, and leaves every other call going', () => {
    // A snapshot from a broken writer: a call that is inbound but still `tracking`. Answering it is tracking -> talking.
    const source = traceTracker();
    const broken = chan('b.1', 'b.1', 'PJSIP/trunk-1', 'from-trunk', '79990000001');
    const healthy = chan('h.1', 'h.1', 'PJSIP/trunk-2', 'from-trunk', '79990000002');
    source.handle({ kind: 'channel', at: 1000, channel: broken });
    source.handle({ kind: 'channel', at: 1000, channel: healthy });
    const state = source.exportState();
    state.calls.find((c) => c.linkedid === 'b.1')!.phase = 'tracking';
    const tracker = traceTracker();
    tracker.importState(state);

    const phone = (id: string, linkedid: string) => chan(id, linkedid, `PJSIP/101-${id}`, 'from-internal');
    const poisoned = tracker.handle({ kind: 'agentConnect', at: 2000, queue: 'support', iface: 'PJSIP/101', caller: broken, dest: phone('b.2', 'b.1') });
    expect(poisoned).toEqual([{ type: 'callPoisoned', linkedid: 'b.1', reason: 'call b.1: tracking -> talking is not allowed on agentConnect' }]);
    expect(tracker.exportState().calls.map((c) => c.linkedid)).toEqual(['h.1']);
    // Its late events start nothing; the healthy call rings, is answered and finishes as usual.
    expect(tracker.handle({ kind: 'hangup', at: 2500, channel: broken, cause: 16 })).toEqual([]);
    const effects = [
      ...tracker.handle({ kind: 'agentCalled', at: 3000, queue: 'support', iface: 'PJSIP/101', caller: healthy, dest: phone('h.2', 'h.1') }),
      ...tracker.handle({ kind: 'agentConnect', at: 4000, queue: 'support', iface: 'PJSIP/101', caller: healthy, dest: phone('h.2', 'h.1') }),
      ...tracker.handle({ kind: 'hangup', at: 9000, channel: phone('h.2', 'h.1'), cause: 16 }),
      ...tracker.handle({ kind: 'hangup', at: 9000, channel: healthy, cause: 16 }),
    ];
    expect(effects.map((e) => e.type)).toEqual(['register', 'show', 'finish', 'callEnded']);
    expect(effects.find((e) => e.type === 'finish')).toEqual({ type: 'finish', linkedid: 'h.1', userId: 11, durationSec: 5, status: '200' });
  });
});
