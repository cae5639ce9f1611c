import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { processRigPerTest } from '../support/process-rig.js';
import { tempDir } from '../support/tmp.js';
import { asTrace, copied, replayEvents, startingNow } from '../support/trace-replay.js';
import { sleep, waitFor } from '../support/wait.js';

/**
 * Issue 15, with the daemon as a process: after kill -9 under load the rate limiter does not start empty (the
 * portal's strict bucket answers no 503), and calls made while the portal was down since before the first start are
 * attributed to the agents who took them once the portal answers.
 */

const { start } = processRigPerTest();

const RATE = { perSecond: 2, burst: 10 };

function config(state: string) {
  return {
    asterisk: { ami: { pingIntervalMs: undefined, reconnect: { initialDelayMs: 100, maxDelayMs: 300 } } },
    bitrix: { rateLimit: RATE },
    users: { extensions: {}, refreshIntervalSec: 900 },
    outbox: { maxRetryDelayMs: 500 },
    state: { dir: state },
    recordings: { enabled: false },
    log: { level: 'info' },
  };
}
/** n distinct copies of a recorded queue call, dated now: each makes a register with cards, a hide and a finish. */
const calls = (from: number, n: number) => asTrace(Array.from({ length: n }, (_, k) => startingNow(copied(replayEvents('support_ringall_answer'), from + k))).flat());

describe('delivery across restarts', () => {
  it('sends no request into a full portal bucket after kill -9 under load: the limiter starts where it was', { timeout: 120_000 }, async () => {
    // A small bucket (10, drained 2/s) on both sides, so a few calls fill it.
    const rig = await start({ portal: { rateLimit: RATE } });
    const { portal, pbx } = rig;
    const state = join(tempDir(), 'state');
    const first = await rig.start(config(state));
    // Calls 100 ms apart, each its own requests (register with cards, hide, finish): faster than the bucket drains, so
    // it fills up to what the daemon's own limiter allows (10 less its 2 safety slots). At 6 or more, a restart with an
    // empty limiter would send 8 at once and meet 503s (the test fails that way without the saved level).
    const deadline = Date.now() + 30_000;
    for (let k = 0; portal.rateLimitFill < 6; k++) {
      if (Date.now() > deadline) throw new Error(`timed out filling the portal bucket (fill ${portal.rateLimitFill.toFixed(1)} after ${k} calls)`);
      await pbx.replay(calls(k, 1));
      await sleep(100);
    }
    await first.stop('SIGKILL');
    const before = portal.requests.length;

    await rig.start(config(state));
    const started = portal.calls.size;
    for (let k = 100; k < 110; k++) await pbx.replay(calls(k, 1));
    await waitFor(() => portal.calls.size >= started + 10 && [...portal.calls.values()].every((c) => c.finished), 'every call delivered after the restart', 90_000);
    expect(portal.requests.length).toBeGreaterThan(before);
    expect(portal.requests.filter((r) => r.status === 503)).toEqual([]);
  });

  it('attributes calls made during an outage that began before the first start to the agents who took them', { timeout: 60_000 }, async () => {
    const rig = await start();
    const { portal, pbx } = rig;
    portal.faults.setDown(503);
    const daemon = await rig.start(config(join(tempDir(), 'state')));
    // No user map has ever loaded: 102 answers a call nobody can yet name.
    await pbx.replay(asTrace(startingNow(replayEvents('support_ringall_answer'))));
    await waitFor(() => daemon.output().includes('"msg":"call finished"'), 'the call over while the portal is down', 10_000);
    portal.faults.setUp();
    await waitFor(() => [...portal.calls.values()].some((c) => c.finished), 'the call delivered once the portal is back', 30_000);
    const call = [...portal.calls.values()][0]!;
    // Registered under the first member that rang (101 -> 11) and finished by the one who answered (102 -> 12).
    expect(call).toMatchObject({ userId: 11, finishedBy: 12, phone: '5551001' });
  });
});
