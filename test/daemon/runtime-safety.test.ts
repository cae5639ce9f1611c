import { describe, expect, it, vi } from 'vitest';
import type { AmiMessage } from '../../src/ami/types.js';
import type { Outbox } from '../../src/bitrix/outbox.js';
import type { EntryKind } from '../../src/bitrix/outbox-entry.js';
import { normalize } from '../../src/core/normalize.js';
import type { TrackerSnapshot } from '../../src/core/snapshot.js';
import { Runtime } from '../../src/daemon/runtime.js';
import { captureLogger } from '../support/logger.js';
import { traceMessages, traceTracker } from '../support/traces.js';

/**
 * The safety path the design promises, in the runtime: a transition the call table refuses drops that call only,
 * and a core or normalizer that throws costs one event; the daemon goes on serving every other call.
 */

// A normalizer bug, on demand: a message with this header makes it throw (the real normalizer never does).
vi.mock('../../src/core/normalize.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/core/normalize.js')>();
  return {
    ...real,
    normalize: (msg: AmiMessage, ...rest: [number, ReadonlySet<string>?]) => {
      if (msg['X-Test'] === 'normalizer-bug') throw new TypeError('normalizer bug');
      return real.normalize(msg, ...rest);
    },
  };
});

const ABANDONED = '1795263564.46'; // caller_abandon
const ANSWERED = '1795263470.0'; // support_ringall_answer

function harness() {
  const sent: Array<[string, EntryKind]> = [];
  const outbox = { enqueue: (key: string, kind: EntryKind) => (sent.push([key, kind]), true), bindCallId: () => undefined } as unknown as Outbox;
  const log = captureLogger('debug');
  const tracker = traceTracker();
  const runtime = new Runtime({ tracker, outbox, logger: log.logger, clock: () => 0, commands: { addToChat: true }, recordingsEnabled: false });
  const kindsFor = (key: string) => sent.filter(([k]) => k === key).map(([, kind]) => kind);
  return { runtime, tracker, log, kindsFor };
}

/** Both calls' events, interleaved in time, as one AMI stream. */
function bothCalls(): AmiMessage[] {
  const at = (m: AmiMessage) => Number(m['Timestamp'] ?? 0);
  const a = traceMessages('caller_abandon').filter((m) => m['Event'] !== undefined);
  const b = traceMessages('support_ringall_answer').filter((m) => m['Event'] !== undefined);
  // The second call is moved to start with the first, so their events alternate.
  const shift = at(a.find((m) => at(m) > 0)!) - at(b.find((m) => at(m) > 0)!);
  const moved = b.map((m) => (m['Timestamp'] === undefined ? m : { ...m, Timestamp: (at(m) + shift).toFixed(6) }));
  return [...a, ...moved].sort((x, y) => at(x) - at(y));
}

const SERVED = ['register', 'show', 'show', 'show', 'hide', 'hide', 'finish'];

describe('the runtime’s safety path', () => {
  it('drops only the call whose transition the call table refuses, logs it once, and serves the other call whole', () => {
    const { runtime, tracker, log, kindsFor } = harness();
    // A state as a crash or an older version may leave it: the abandoned call marked talking before its direction
    // was known. Its next classified event would move it talking -> ringing, which the table refuses.
    const donor = traceTracker();
    const first = traceMessages('caller_abandon').find((m) => m['Event'] === 'Newchannel')!;
    donor.handle(normalize(first, 0)!);
    const snapshot = JSON.parse(JSON.stringify(donor.exportState())) as TrackerSnapshot;
    const broken = snapshot.calls.find((c) => c.linkedid === ABANDONED)!;
    broken.phase = 'talking';
    tracker.importState(snapshot);

    for (const msg of bothCalls()) runtime.handleAmiEvent(msg);

    expect(runtime.stats.poisonedCalls).toBe(1);
    const dropped = log.lines().filter((l) => l['msg'] === 'call dropped: events broke its state machine');
    expect(dropped).toEqual([expect.objectContaining({ linkedid: ABANDONED, reason: expect.stringMatching(/talking -> ringing/) })]);
    expect(kindsFor(ABANDONED)).toEqual([]);
    expect(kindsFor(ANSWERED)).toEqual(SERVED);
    expect(runtime.stats.eventErrors).toBe(0);
  });

  it('loses one event when the core throws on it, and goes on with that call and the others', () => {
    const { runtime, tracker, log, kindsFor } = harness();
    const messages = bothCalls();
    // The abandoned call's AgentCalled for 102 breaks the core once.
    const victim = messages.find((m) => m['Event'] === 'AgentCalled' && m['Linkedid'] === ABANDONED)!;
    const handle = tracker.handle.bind(tracker);
    let thrown = 0;
    vi.spyOn(tracker, 'handle').mockImplementation((input) => {
      if (input.kind === 'agentCalled' && input.caller.linkedid === ABANDONED && thrown++ === 0) throw new RangeError('core bug');
      return handle(input);
    });
    expect(victim).toBeDefined();

    for (const msg of messages) runtime.handleAmiEvent(msg);

    expect(thrown).toBeGreaterThan(0);
    expect(runtime.stats.eventErrors).toBe(1);
    expect(log.lines().filter((l) => l['msg'] === 'core failed on an event; skipped')).toEqual([expect.objectContaining({ kind: 'agentCalled', level: 50 })]);
    expect(kindsFor(ANSWERED)).toEqual(SERVED);
    // The call whose event was lost is still registered and finished.
    expect(kindsFor(ABANDONED)[0]).toBe('register');
    expect(kindsFor(ABANDONED).at(-1)).toBe('finish');
    expect(runtime.stats.poisonedCalls).toBe(0);
  });

  it('skips an event the normalizer throws on, and goes on with every call', () => {
    const { runtime, log, kindsFor } = harness();
    const messages = bothCalls();
    const at = messages.findIndex((m) => m['Linkedid'] === ANSWERED && m['Event'] === 'AgentCalled');
    messages.splice(at, 0, { Event: 'Newchannel', 'X-Test': 'normalizer-bug', Uniqueid: 'x', Linkedid: 'x' });

    for (const msg of messages) runtime.handleAmiEvent(msg);

    expect(runtime.stats.eventErrors).toBe(1);
    expect(log.lines().filter((l) => l['msg'] === 'could not read an AMI event; skipped')).toEqual([expect.objectContaining({ event: 'Newchannel', level: 40 })]);
    expect(kindsFor(ANSWERED)).toEqual(SERVED);
    expect(kindsFor(ABANDONED)).toEqual(expect.arrayContaining(['register', 'finish']));
    expect(runtime.stats.events).toBe(messages.length);
  });
});
