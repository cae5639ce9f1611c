import { describe, expect, it } from 'vitest';
import type { AmiMessage } from '../../src/ami/types.js';
import type { Effect } from '../../src/core/effects.js';
import type { MemberLastCall } from '../../src/core/events.js';
import { normalize } from '../../src/core/normalize.js';
import type { CallTracker } from '../../src/core/tracker.js';
import { channelList } from '../../src/daemon/resync.js';
import { replay, traceMessages, traceTracker } from '../support/traces.js';

/**
 * What a resync estimates for the time the daemon was blind (src/core/blind-estimate.ts), on the recorded issue 14
 * scenarios with their evidence changed or taken away: each estimate errs long, by at most the blind time, and
 * better evidence is used only when it can be this call's.
 */

const ms = (m: AmiMessage | undefined): number => Math.round(Number(m?.['Timestamp']) * 1000);
const stamped = (name: string) => traceMessages(name).filter((m) => Number(m['Timestamp']) > 0);
const finishOf = (effects: Effect[]) => effects.find((e): e is Extract<Effect, { type: 'finish' }> => e.type === 'finish');

/** down_through_hangup's first session: 102 answered, then the daemon died. The saved core, its last event, the answer. */
function downAfterAnswer(): { tracker: CallTracker; blindSince: number; answeredAt: number; backAt: number } {
  const tracker = traceTracker();
  replay('down_through_hangup', tracker);
  const answeredAt = ms(stamped('down_through_hangup').find((m) => m['Event'] === 'DialEnd' && m['DialStatus'] === 'ANSWER' && String(m['DestChannel']).startsWith('Local/102@')));
  return { tracker, blindSince: tracker.lastEventTime, answeredAt, backAt: ms(stamped('down_through_hangup.2')[0]) };
}

describe('a call that ended while the daemon was blind', () => {
  it('ends when its agent\'s LastCall says, the middle of that second: the recorded 4 s', () => {
    const { tracker, blindSince, backAt } = downAfterAnswer();
    const lastCalls: MemberLastCall[] = [{ queue: 'support', iface: 'Local/102@agents/n', endedAt: 1_796_615_634_000 }];
    const finish = finishOf(tracker.handle({ kind: 'resync', at: backAt, blindSince, live: [], known: tracker.channelIds(), lastCalls }));
    expect(finish).toMatchObject({ userId: 12, status: '200', durationSec: 4 });
  });

  it.each<[string, MemberLastCall[]]>([
    ['no QueueStatus', []],
    ['a LastCall of an earlier call (before the daemon last saw this one alive)', [{ queue: 'support', iface: 'Local/102@agents/n', endedAt: 1_796_615_600_000 }]],
    ['a LastCall after the daemon was back (another clock, another call)', [{ queue: 'support', iface: 'Local/102@agents/n', endedAt: 1_796_615_700_000 }]],
    ['the LastCall of another member', [{ queue: 'support', iface: 'Local/101@agents/n', endedAt: 1_796_615_634_000 }]],
    ['the LastCall of the agent in another queue', [{ queue: 'sales', iface: 'Local/102@agents/n', endedAt: 1_796_615_634_000 }]],
  ])('with %s, ends when the daemon came back: longer than the truth (4 s), never longer than answer to return', (_, lastCalls) => {
    const { tracker, blindSince, answeredAt, backAt } = downAfterAnswer();
    const finish = finishOf(tracker.handle({ kind: 'resync', at: backAt, blindSince, live: [], known: tracker.channelIds(), lastCalls }));
    expect(finish).toMatchObject({ userId: 12, status: '200', durationSec: Math.round((backAt - answeredAt) / 1000) });
    expect(finish!.durationSec).toBeGreaterThan(4);
  });
});

/** restart_while_ringing: the saved core (the call ringing) resynced with the recorded list, then the rest of session 2. */
function backWhileTalking(session2: (m: AmiMessage) => AmiMessage | undefined): { effects: Effect[]; blindSince: number } {
  const before = traceTracker();
  replay('restart_while_ringing', before);
  const blindSince = before.lastEventTime;
  const tracker = traceTracker();
  tracker.importState(JSON.parse(JSON.stringify(before.exportState())));
  const messages = traceMessages('restart_while_ringing.2');
  const live = channelList(messages);
  const effects = tracker.handle({ kind: 'resync', at: ms(stamped('restart_while_ringing.2')[0]), blindSince, live, known: tracker.channelIds() });
  for (const msg of messages) {
    const changed = session2(msg);
    const input = changed && normalize(changed, 0);
    if (input) effects.push(...tracker.handle(input));
  }
  return { effects, blindSince };
}

describe('a call answered while the daemon was blind', () => {
  it('is known as answered by the agent in the customer\'s bridge, and its AgentComplete TalkTime gives the answer: the recorded 14 s', () => {
    const { effects } = backWhileTalking((m) => m);
    expect(effects.filter((e) => e.type === 'hide' || e.type === 'finish')).toEqual([
      { type: 'hide', linkedid: '1796615608.0', userIds: [11] },
      { type: 'hide', linkedid: '1796615608.0', userIds: [13] },
      { type: 'finish', linkedid: '1796615608.0', userId: 12, durationSec: 14, status: '200' },
    ]);
  });

  it.each<[string, (m: AmiMessage) => AmiMessage | undefined]>([
    ['no AgentComplete', (m) => (m['Event'] === 'AgentComplete' ? undefined : m)],
    ['a TalkTime longer than the call could have been (from before the daemon went blind)', (m) => (m['Event'] === 'AgentComplete' ? { ...m, TalkTime: '100' } : m)],
    ['the AgentComplete of another member', (m) => (m['Event'] === 'AgentComplete' ? { ...m, Interface: 'Local/101@agents/n' } : m)],
  ])('with %s, counts from the last moment the daemon saw it ringing: longer than the truth (14 s)', (_, session2) => {
    const { effects, blindSince } = backWhileTalking(session2);
    const hangup = ms(stamped('restart_while_ringing.2').filter((m) => m['Event'] === 'Hangup').at(-1));
    expect(finishOf(effects)).toMatchObject({ userId: 12, status: '200', durationSec: Math.round((hangup - blindSince) / 1000) });
    expect(finishOf(effects)!.durationSec).toBeGreaterThan(14);
  });

  it('that the daemon never saw (a first start, no saved state) is registered at the end, by the agent it found talking', () => {
    const tracker = traceTracker();
    const messages = traceMessages('restart_while_ringing.2');
    const at = ms(stamped('restart_while_ringing.2')[0]);
    const effects = tracker.handle({ kind: 'resync', at, live: channelList(messages), known: [] });
    expect(effects).toEqual([]);
    for (const msg of messages) {
      const input = normalize(msg, 0);
      if (input) effects.push(...tracker.handle(input));
    }
    expect(effects.filter((e) => e.type === 'register' || e.type === 'finish' || e.type === 'show')).toEqual([
      // Found at `at`, answered at the latest then: AgentComplete's TalkTime cannot move it earlier than that.
      expect.objectContaining({ type: 'register', userId: 12, phoneNumber: '5557001', startedAt: at }),
      expect.objectContaining({ type: 'finish', userId: 12, status: '200', durationSec: 4 }),
    ]);
  });
});

describe('the time the daemon last heard from Asterisk (the next run is blind since then)', () => {
  it('moves with Asterisk\'s events only: a click while AMI is down, its failed originate and a user map leave it', () => {
    const tracker = traceTracker();
    replay('restart_while_ringing', tracker);
    const heard = tracker.lastEventTime;
    expect(heard).toBe(Math.max(...stamped('restart_while_ringing').map(ms)));
    const later = heard + 30_000;
    const click = tracker.handle({ kind: 'clickToCall', at: later, linkedid: 'c2c-down-1', callId: 'externalCall.down1', ext: '101', userId: 11, number: '5550001', card: false });
    expect(click).toEqual([expect.objectContaining({ type: 'bindCallId', linkedid: 'c2c-down-1' })]);
    expect(tracker.handle({ kind: 'originateFailed', at: later, linkedid: 'c2c-down-1', reason: 0 })).toContainEqual(expect.objectContaining({ type: 'finish' }));
    tracker.handle({ kind: 'userMap', at: later, extensions: { '101': 11, '102': 12 } });
    expect(tracker.lastEventTime).toBe(heard);
    // The next Asterisk event does move it.
    tracker.handle({ kind: 'resync', at: later + 1000, live: [], known: [] });
    expect(tracker.lastEventTime).toBe(later + 1000);
  });
});
