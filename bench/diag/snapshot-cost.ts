import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_LIMITS } from '../../src/core/limits.js';
import { normalize } from '../../src/core/normalize.js';
import { kvSet, openStateDb } from '../../src/store/db.js';
import { traceTracker } from '../../test/support/traces.js';
import { median } from '../lib/stats.js';
import { agentCalled, callEnd, callStart, newCall } from '../lib/synthetic-calls.js';

/**
 * Diagnostic behind the soak's note (not part of `npm run bench`): the daemon saves the core's state every second
 * while events flow (src/daemon/app.ts saveSnapshot: exportState -> JSON -> SQLite kv). The state includes the
 * tombstones, which fill up to their bounds on a busy PBX (10 000 ended Linkedids, 80 000 hung-up Uniqueids).
 * This fills a core with ended calls and times one save on the event loop, as their number grows.
 *
 *   npx tsx bench/diag/snapshot-cost.ts
 */

const dir = mkdtempSync(join(tmpdir(), 'b24bridge-diag-'));
const db = openStateDb(dir);
const tracker = traceTracker();
let ended = 0;
for (const target of [1_000, 10_000, 40_000, 60_000]) {
  for (; ended < target; ended++) {
    const c = newCall('support', ['101']);
    for (const m of [...callStart(c), agentCalled(c, c.members[0]!), ...callEnd(c)]) {
      const input = normalize(m, Date.now());
      if (input) tracker.handle(input);
    }
  }
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const state = tracker.exportState();
    bytes = JSON.stringify(state).length;
    kvSet(db, 'core.snapshot', state, Date.now());
    times.push(performance.now() - t);
  }
  const s = tracker.exportState();
  process.stdout.write(
    `${String(target).padStart(6)} calls ended: snapshot ${(bytes / 1024).toFixed(0).padStart(5)} KiB ` +
      `(${s.ended.length} ended, ${s.hungUp.length} hung-up ids), save ${median(times).toFixed(1)} ms on the event loop\n`,
  );
}
// Since the snapshot is saved in every event-loop turn whose events produced effects (src/daemon/app.ts
// onEffects), what matters is one save with the tombstones full and many calls in progress.
for (const active of [10, 100, 500]) {
  const live = traceTracker();
  for (let i = 0; i < 60_000; i++) {
    const c = newCall('support', ['101']);
    for (const m of [...callStart(c), agentCalled(c, c.members[0]!), ...callEnd(c)]) {
      const input = normalize(m, Date.now());
      if (input) live.handle(input);
    }
  }
  for (let i = 0; i < active; i++) {
    const c = newCall('support', ['101', '102', '103']);
    for (const m of [...callStart(c), ...c.members.map((mm) => agentCalled(c, mm))]) {
      const input = normalize(m, Date.now());
      if (input) live.handle(input);
    }
  }
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    kvSet(db, 'core.snapshot', live.exportState(), Date.now());
    times.push(performance.now() - t);
  }
  process.stdout.write(`${String(active).padStart(6)} calls in progress (tombstones full): save ${median(times).toFixed(2)} ms per turn with effects\n`);
}
// At the tracking limits (src/core/limits.ts) a snapshot is as large as it can get, whatever the AMI sends: every
// call in progress ringing seven members fills the channel limit (a flood of one-channel calls stays smaller).
{
  const full = traceTracker();
  const members = ['101', '102', '103', '104', '105', '106', '107'];
  for (let i = 0; i < DEFAULT_LIMITS.calls; i++) {
    const c = newCall('support', members);
    for (const m of [...callStart(c), ...c.members.map((mm) => agentCalled(c, mm))]) {
      const input = normalize(m, Date.now());
      if (input) full.handle(input);
    }
  }
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    const state = full.exportState();
    bytes = JSON.stringify(state).length;
    kvSet(db, 'core.snapshot', state, Date.now());
    times.push(performance.now() - t);
  }
  process.stdout.write(
    `at the limits (${full.activeCalls} calls, ${full.trackedChannels} channels): snapshot ${(bytes / 1024).toFixed(0)} KiB, ` +
      `save ${median(times).toFixed(1)} ms on the event loop\n`,
  );
}
db.close();
rmSync(dir, { recursive: true, force: true });
