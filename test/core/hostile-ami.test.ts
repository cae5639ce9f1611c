import { describe, expect, it } from 'vitest';
import type { AmiMessage } from '../../src/ami/types.js';
import type { ChannelSnapshot } from '../../src/core/events.js';
import { DEFAULT_LIMITS, type TrackingLimits } from '../../src/core/limits.js';
import { normalize } from '../../src/core/normalize.js';
import { expectedEffects, traceMessages, traceNames, traceTracker, type TimedEffect } from '../support/traces.js';

/**
 * A broken or hostile AMI: events for channels that never hang up, spread evenly over the time a real trace takes
 * and merged with it by time. The core must stay within its limits (and its snapshot with them), and the real
 * calls among the noise must still give exactly their reviewed effects. The noise never shows a card: a flood that
 * rang agents' phones would be real calls as far as anyone can tell.
 */

/** The i-th hostile event at time `at` (ms): a new channel each time, in all the shapes a real PBX sends. */
function hostile(i: number, at: number): AmiMessage {
  const ts = (at / 1000).toFixed(6);
  const shape = i % 10;
  // One Linkedid gathering ever more channels (a loop in a broken dialplan).
  const linkedid = shape === 0 ? 'flood.shared' : `flood.${i}`;
  const base = { Timestamp: ts, Channel: `PJSIP/7${i % 1000}-${i.toString(16)}`, Uniqueid: `flood.${i}.1`, Linkedid: linkedid, CallerIDNum: '79990000000', Exten: 's' };
  if (shape <= 3) return { ...base, Event: 'Newexten', Context: shape === 0 ? 'from-internal' : 'some-ivr' };
  if (shape <= 6) return { ...base, Event: 'Newchannel', Context: 'from-trunk', Exten: '74950000000' };
  if (shape <= 8) return { ...base, Event: 'VarSet', Context: 'from-internal', Variable: 'MIXMONITOR_FILENAME', Value: `/tmp/${i}.wav` };
  return { ...base, Event: 'NewCallerid', Context: 'from-internal' };
}

interface FloodRun {
  effects: TimedEffect[];
  maxCalls: number;
  maxChannels: number;
  maxSnapshotBytes: number;
  evicted: { calls: number; channels: number };
}

/** Replays `name` with `count` hostile events merged in by time; sizes are sampled every `every` events. */
function replayUnderFlood(name: string, count: number, limits: TrackingLimits, every = 50_000): FloodRun {
  const tracker = traceTracker({ limits });
  const inputs = traceMessages(name).flatMap((m) => normalize(m, 0) ?? []);
  // A trace with no call in it (queue_actions) still gets its flood, over a second.
  const t0 = inputs[0]?.at ?? 1_795_263_000_000;
  const span = Math.max(1000, (inputs.at(-1)?.at ?? t0) - t0);
  const run: FloodRun = { effects: [], maxCalls: 0, maxChannels: 0, maxSnapshotBytes: 0, evicted: { calls: 0, channels: 0 } };
  const sample = () => {
    run.maxCalls = Math.max(run.maxCalls, tracker.activeCalls);
    run.maxChannels = Math.max(run.maxChannels, tracker.trackedChannels);
    run.maxSnapshotBytes = Math.max(run.maxSnapshotBytes, JSON.stringify(tracker.exportState()).length);
  };
  let next = 0;
  for (let i = 0; i < count; i++) {
    const at = t0 + (i * span) / count;
    while (next < inputs.length && inputs[next]!.at <= at) {
      const input = inputs[next++]!;
      for (const effect of tracker.handle(input)) run.effects.push({ t: Math.round(input.at - t0) / 1000, effect });
    }
    const input = normalize(hostile(i, at), 0)!;
    for (const effect of tracker.handle(input)) run.effects.push({ t: Math.round(input.at - t0) / 1000, effect });
    if (i % every === 0) sample();
  }
  for (const input of inputs.slice(next)) for (const effect of tracker.handle(input)) run.effects.push({ t: Math.round(input.at - t0) / 1000, effect });
  sample();
  run.evicted = { ...tracker.evicted };
  return run;
}

const withoutEvictions = (effects: TimedEffect[]) => effects.filter((e) => e.effect.type !== 'evicted');

describe('the core under a flood of AMI events for channels that never hang up', () => {
  it('stays within its limits over 1M hostile events, and the real call among them gives exactly its reviewed effects', () => {
    const run = replayUnderFlood('support_ringall_answer', 1_000_000, DEFAULT_LIMITS);
    expect(withoutEvictions(run.effects)).toEqual(expectedEffects('support_ringall_answer'));
    expect(run.maxCalls).toBeLessThanOrEqual(DEFAULT_LIMITS.calls);
    expect(run.maxChannels).toBeLessThanOrEqual(DEFAULT_LIMITS.channels);
    // 1000 calls of one channel, the shared Linkedid's 1000 channels, the user map: about 0.5 MB, however long the flood.
    expect(run.maxSnapshotBytes).toBeLessThan(1_000_000);
    // Every hostile call but the last ones tracked was evicted, and the shared Linkedid lost its oldest channels.
    expect(run.evicted.calls).toBeGreaterThan(900_000 - DEFAULT_LIMITS.calls);
    expect(run.evicted.channels).toBeGreaterThan(run.evicted.calls);
  }, 120_000);

  it.each(traceNames())('%s gives exactly its reviewed effects among 100k hostile events and tight limits', (name) => {
    const limits = { calls: 200, channels: 1600 };
    const run = replayUnderFlood(name, 100_000, limits, 10_000);
    expect(withoutEvictions(run.effects)).toEqual(expectedEffects(name));
    expect(run.maxCalls).toBeLessThanOrEqual(limits.calls);
    expect(run.maxChannels).toBeLessThanOrEqual(limits.channels);
    expect(run.evicted.calls).toBeGreaterThan(0);
  }, 60_000);

  it('takes from a resync answer with 100k channels only what fits, and keeps the calls it had', () => {
    const tracker = traceTracker({ limits: { calls: 100, channels: 800 } });
    const trunk: ChannelSnapshot = { uniqueid: 'real.1', linkedid: 'real.1', name: 'PJSIP/trunk-00000001', context: 'from-trunk', exten: '74951230000', callerIdNum: '79990001122', callerIdName: '' };
    const phone: ChannelSnapshot = { uniqueid: 'real.2', linkedid: 'real.1', name: 'PJSIP/101-00000002', context: 'from-internal', exten: '101', callerIdNum: '', callerIdName: '' };
    tracker.handle({ kind: 'channel', at: 1000, channel: trunk });
    expect(tracker.handle({ kind: 'dialBegin', at: 1100, caller: trunk, dest: phone }).map((e) => e.type)).toEqual(['register', 'show']);
    const live = Array.from({ length: 100_000 }, (_, i): ChannelSnapshot => ({
      uniqueid: `ghost.${i}`,
      linkedid: `ghost.${i}`,
      name: `PJSIP/trunk-${i}`,
      context: 'from-trunk',
      exten: '74950000000',
      callerIdNum: '79990000000',
      callerIdName: '',
    }));
    const effects = tracker.handle({ kind: 'resync', at: 2000, live: [trunk, phone, ...live], known: tracker.channelIds() });
    expect(effects).toEqual([{ type: 'evicted', calls: 0, channels: 100_000 - 99 }]);
    expect(tracker.activeCalls).toBe(100);
    // The real call is still there, whole: its caller hangs up and it is finished as answered by nobody.
    tracker.handle({ kind: 'hangup', at: 3000, channel: phone, cause: 16 });
    const end = tracker.handle({ kind: 'hangup', at: 3100, channel: trunk, cause: 16 });
    expect(end.map((e) => e.type)).toEqual(['finish', 'callEnded']);
    expect(end[0]).toMatchObject({ linkedid: 'real.1', userId: 1, status: '304' });
  });
});
