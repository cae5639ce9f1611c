import { describe, expect, it } from 'vitest';
import type { Effect } from '../../src/core/effects.js';
import type { CoreInput } from '../../src/core/events.js';
import { normalize } from '../../src/core/normalize.js';
import type { TrackerSnapshot } from '../../src/core/snapshot.js';
import type { CallTracker } from '../../src/core/tracker.js';
import { traceMessages, traceNames, traceTracker, TRACE_USERS } from '../support/traces.js';

/** The core's snapshot: what a restart resumes from (even after kill -9), round-tripped through JSON. */

const inputsOf = (name: string): CoreInput[] => traceMessages(name).flatMap((m) => normalize(m, 0) ?? []);
const feed = (tracker: CallTracker, inputs: CoreInput[]): Effect[] => inputs.flatMap((i) => tracker.handle(i));
const throughJson = (s: TrackerSnapshot) => JSON.parse(JSON.stringify(s)) as TrackerSnapshot;

/** Every trace cut after 1/4, 1/2 and 3/4 of its inputs. */
const cuts = traceNames().flatMap((name) => {
  const n = inputsOf(name).length;
  return n === 0 ? [] : [1, 2, 3].map((q) => [name, Math.floor((n * q) / 4)] as const);
});

describe('the snapshot', () => {
  it.each(cuts)('of %s after %i inputs comes back whole, and the restarted core goes on exactly as the one that never stopped', (name, cut) => {
    const inputs = inputsOf(name);
    const steady = traceTracker();
    feed(steady, inputs.slice(0, cut));
    const saved = throughJson(steady.exportState());
    // The restarted core is built with no user map: the snapshot brings the one the first core had.
    const restarted = traceTracker({ users: {} });
    restarted.importState(saved);
    expect(restarted.exportState()).toEqual(saved);
    // The live view's lighter read holds the same calls.
    expect(throughJson({ ...saved, calls: steady.exportCalls() })).toEqual(saved);
    expect(restarted.userMap()).toEqual(TRACE_USERS);
    expect(feed(restarted, inputs.slice(cut))).toEqual(feed(steady, inputs.slice(cut)));
  });

  it('keeps the tombstones it is allowed to: late events of a call that ended before the restart start nothing', () => {
    const inputs = inputsOf('support_ringall_answer');
    const before = traceTracker();
    feed(before, inputs);
    const after = traceTracker();
    after.importState(throughJson(before.exportState()));
    expect(after.activeCalls).toBe(0);
    expect(feed(after, inputs.slice(0, 10))).toEqual([]);
  });

  it('written before the user map, ring legs and talkers were in it, still loads, and keeps the map the core has', () => {
    const inputs = inputsOf('support_ringall_answer');
    const cut = inputs.findIndex((i) => i.kind === 'agentCalled') + 1;
    const steady = traceTracker();
    feed(steady, inputs.slice(0, cut));
    const old = throughJson(steady.exportState());
    delete old.users;
    for (const c of old.calls) {
      delete c.endedRings;
      delete c.consults;
      delete (c as Partial<typeof c>).talkedExts;
    }
    const restarted = traceTracker();
    restarted.importState(old);
    expect(restarted.userMap()).toEqual(TRACE_USERS);
    expect(feed(restarted, inputs.slice(cut))).toEqual(feed(steady, inputs.slice(cut)));
  });
});
