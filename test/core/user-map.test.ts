import { describe, expect, it } from 'vitest';
import type { Effect } from '../../src/core/effects.js';
import type { CoreInput } from '../../src/core/events.js';
import { normalize } from '../../src/core/normalize.js';
import type { CallTracker } from '../../src/core/tracker.js';
import { UserMapError } from '../../src/core/users.js';
import { expectedEffects, replay, traceMessages, traceTracker, TRACE_USERS } from '../support/traces.js';

/** The user map is an input of the core (design habit 10): kept in its state, checked, and named in its effects. */

const inputsOf = (name: string): CoreInput[] => traceMessages(name).flatMap((m) => normalize(m, 0) ?? []);
const feed = (tracker: CallTracker, inputs: CoreInput[]): Effect[] => inputs.flatMap((i) => tracker.handle(i));
const ofType = <T extends Effect['type']>(effects: Effect[], type: T) => effects.filter((e): e is Extract<Effect, { type: T }> => e.type === type);

describe('the user map as an input', () => {
  it('given as the first input, names the same users as one given at construction: the reviewed effects of every trace', () => {
    for (const name of ['support_ringall_answer', 'blind_transfer', 'click_to_call', 'sales_leastrecent_ringback']) {
      const tracker = traceTracker({ users: {} });
      const [first] = inputsOf(name);
      tracker.handle({ kind: 'userMap', at: first!.at, extensions: TRACE_USERS });
      expect(replay(name, tracker), name).toEqual(expectedEffects(name));
    }
  });

  it.each<[string, Record<string, number>]>([
    ['an empty extension', { '': 11 }],
    ['a user id of 0', { '104': 0 }],
    ['a negative user id', { '104': -4 }],
    ['a fractional user id', { '104': 1.5 }],
    ['a user id that is not a number', { '104': Number('x') }],
    ['a user id given as text', { '104': '14' as unknown as number }],
  ])('refuses a map with %s whole, and keeps the one it had', (_, bad) => {
    const tracker = traceTracker();
    expect(() => tracker.handle({ kind: 'userMap', at: 1, extensions: { '105': 15, ...bad } })).toThrow(UserMapError);
    expect(tracker.userMap()).toEqual(TRACE_USERS);
  });

  it('changes nothing but what later events name: a leg already ringing keeps its card, the next one uses the new map', () => {
    const tracker = traceTracker({ users: { '101': 11 } });
    const trunk = { uniqueid: 't.1', linkedid: 't.1', name: 'PJSIP/trunk-1', context: 'from-trunk', exten: '', callerIdNum: '79990001122', callerIdName: '' };
    const phone = (ext: string) => ({ uniqueid: `t.${ext}`, linkedid: 't.1', name: `PJSIP/${ext}-1`, context: 'from-internal', exten: ext, callerIdNum: '', callerIdName: '' });
    const before = feed(tracker, [
      { kind: 'channel', at: 0, channel: trunk },
      { kind: 'dialBegin', at: 10, caller: trunk, dest: phone('101') },
    ]);
    expect(ofType(before, 'show')).toEqual([{ type: 'show', linkedid: 't.1', userIds: [11] }]);
    expect(tracker.handle({ kind: 'userMap', at: 20, extensions: { '102': 12 } })).toEqual([]);
    const after = feed(tracker, [
      { kind: 'dialBegin', at: 30, caller: trunk, dest: phone('102') },
      { kind: 'dialEnd', at: 40, caller: trunk, dest: phone('101'), status: 'NOANSWER' },
    ]);
    expect(after).toEqual([
      { type: 'show', linkedid: 't.1', userIds: [12] },
      { type: 'hide', linkedid: 't.1', userIds: [11] },
    ]);
  });
});

describe('userExt: the extension behind a default user', () => {
  it('names the first member that rang on the register and the agent who talked on the finish, when the map had neither (portal down)', () => {
    const effects = replay('support_ringall_answer', traceTracker({ users: {} })).map((e) => e.effect);
    expect(ofType(effects, 'show')).toEqual([]);
    expect(ofType(effects, 'register')).toEqual([expect.objectContaining({ userId: 1, userExt: '101' })]);
    expect(ofType(effects, 'finish')).toEqual([expect.objectContaining({ userId: 1, userExt: '102', status: '200' })]);
    expect(ofType(effects, 'callEnded')).toEqual([expect.objectContaining({ userId: 1, userExt: '102' })]);
  });

  it("names the agent who placed an outbound call on its register and finish", () => {
    const effects = replay('click_to_call', traceTracker({ users: {} })).map((e) => e.effect);
    expect(ofType(effects, 'register')).toEqual([expect.objectContaining({ callType: 1, userId: 1, userExt: '101' })]);
    expect(ofType(effects, 'finish')).toEqual([expect.objectContaining({ userId: 1, userExt: '101' })]);
  });

  it('is absent when the user came from the map, and when no extension was involved (a missed call no card showed for)', () => {
    for (const { effect } of replay('support_ringall_answer')) expect(effect).not.toHaveProperty('userExt');
    const missed = replay('no_members_all_paused').map((e) => e.effect);
    expect(ofType(missed, 'register')).toEqual([expect.objectContaining({ userId: 1 })]);
    expect(ofType(missed, 'finish')).toEqual([expect.objectContaining({ userId: 1, status: '304' })]);
    for (const e of missed) expect(e).not.toHaveProperty('userExt');
  });
});
