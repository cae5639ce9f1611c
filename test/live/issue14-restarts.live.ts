import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait.js';
import { startBed, startLiveDaemon, stopBed, type Bed, type LiveDaemon } from './support/bed.js';
import { cardMoves, cardsLeftOpen, expectEachCallOnce, finished, telephony } from './support/portal.js';
import { asteriskRestart, downThroughHangup, restartWhileRinging } from './support/scenarios.js';

/**
 * Issue 14 cases 2 and 3, live, with kill -9 of the daemon (the same scenarios are recorded as restart_while_ringing
 * and down_through_hangup), and an Asterisk restart (`core restart now`) under a call.
 */

let bed: Bed | undefined;
let live: LiveDaemon | undefined;

beforeAll(async () => {
  bed = await startBed();
});
afterEach(async () => {
  await live?.stop();
  live = undefined;
  await bed?.pbx.idle(30_000);
});
afterAll(() => stopBed(bed));

describe('issue 14 cases 2 and 3: the daemon killed during a call, live', () => {
  it('case 2: killed while the call rang, back while 102 talked: the call is known as answered by 12, finished by 12 with a talk time, 200', async () => {
    live = await startLiveDaemon(bed!);
    const daemon = live;
    await restartWhileRinging({ pbx: bed!.pbx, down: () => daemon.kill(), up: () => daemon.restart() });
    const { call, finish } = await finished(live.portal, '5557001');
    expect(telephony(live.portal).filter((c) => c.method === 'register')).toHaveLength(1);
    expect(finish.params).toMatchObject({ USER_ID: '12', STATUS_CODE: '200' });
    // 102 talked 14 s; the daemon saw the answer only as "Up, in the customer's bridge" 10 s in.
    expect(Number(finish.params['DURATION'])).toBeGreaterThanOrEqual(4);
    expect(Number(finish.params['DURATION'])).toBeLessThanOrEqual(19);
    expect(cardMoves(live.portal, call.callId)).toEqual([
      ['show', [11, 12, 13]],
      ['hide', [11, 13]],
    ]);
    expect(cardsLeftOpen(call)).toEqual([]);
    expect(expectEachCallOnce(live.portal)).toEqual([]);
  });

  it('case 3: down from 1.5 s into a 4 s talk until after the hangup: finished by 12, 200, never 0 s', async () => {
    live = await startLiveDaemon(bed!);
    const daemon = live;
    await downThroughHangup({ pbx: bed!.pbx, down: () => daemon.kill(), up: () => daemon.restart() });
    const { call, finish } = await finished(live.portal, '5557101');
    expect(finish.params).toMatchObject({ USER_ID: '12', STATUS_CODE: '200' });
    // The truth is 4 s; the daemon knows the answer, and its restart 3 s after the hangup is the latest end.
    expect(Number(finish.params['DURATION'])).toBeGreaterThanOrEqual(1);
    expect(Number(finish.params['DURATION'])).toBeLessThanOrEqual(8);
    expect(cardsLeftOpen(call)).toEqual([]);
    expect(expectEachCallOnce(live.portal)).toEqual([]);
  });

  it('Asterisk restarts (core restart now) under a talking call: the call is finished once, by 12, with the talk until the restart', async () => {
    live = await startLiveDaemon(bed!);
    const { pbx, ast } = bed!;
    const daemon = live;
    // The daemon reconnects by itself; it noticed the restart (Shutdown, then a FullyBooted with a later boot time).
    const noticed = async (): Promise<void> => {
      await waitFor(() => /Asterisk restarted/.test(daemon.output()), 'the daemon to log the Asterisk restart', 30_000);
    };
    await asteriskRestart({ pbx, down: async () => undefined, up: noticed });
    const { call, finish } = await finished(live.portal, '5557201', 40_000);
    expect(finish.params).toMatchObject({ USER_ID: '12', STATUS_CODE: '200' });
    expect(Number(finish.params['DURATION'])).toBeGreaterThanOrEqual(2);
    expect(Number(finish.params['DURATION'])).toBeLessThanOrEqual(5);
    expect(cardsLeftOpen(call)).toEqual([]);
    expect(expectEachCallOnce(live.portal)).toEqual([]);
    expect(await ast.cli('core show uptime seconds')).toMatch(/System uptime: \d+/);
  });
});
