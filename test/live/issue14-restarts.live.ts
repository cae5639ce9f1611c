import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait.js';
import { liveBed, type LiveDaemon } from './support/bed.js';
import { cardMoves, cardsLeftOpen, expectEachCallOnce, finished, telephony } from './support/portal.js';
import { asteriskRestart, downThroughHangup, restartWhileRinging } from './support/scenarios.js';

/**
 * Issue 14 cases 2 and 3, live, with kill -9 of the daemon (the same scenarios are recorded as restart_while_ringing
 * and down_through_hangup), and an Asterisk restart (`core restart now`) under a call.
 */

let live: LiveDaemon | undefined;
const lab = liveBed();

describe('issue 14 cases 2 and 3: the daemon killed during a call, live', () => {
  it('case 2: killed while the call rang, back while 102 talked: the call is known as answered by 12, finished by 12 with its talk time within a second, 200', async () => {
    live = await lab.daemon();
    const daemon = live;
    await restartWhileRinging({ pbx: lab.bed.pbx, down: () => daemon.kill(), up: () => daemon.restart() });
    const { call, finish } = await finished(live.portal, '5557001');
    expect(telephony(live.portal).filter((c) => c.method === 'register')).toHaveLength(1);
    expect(finish.params).toMatchObject({ USER_ID: '12', STATUS_CODE: '200' });
    // 102 talked 14 s; the daemon saw the answer only as "Up, in the customer's bridge" 10 s in. Without evidence it
    // could only say 4..19 s; AgentComplete's TalkTime (whole seconds) puts the answer within a second.
    expect(Number(finish.params['DURATION'])).toBeGreaterThanOrEqual(13);
    expect(Number(finish.params['DURATION'])).toBeLessThanOrEqual(15);
    expect(cardMoves(live.portal, call.callId)).toEqual([
      ['show', [11, 12, 13]],
      ['hide', [11, 13]],
    ]);
    expect(cardsLeftOpen(call)).toEqual([]);
    expect(expectEachCallOnce(live.portal)).toEqual([]);
  });

  it('case 3: down from 1.5 s into a 4 s talk until after the hangup: finished by 12, 200, with its talk time within a second (never 0 s)', async () => {
    live = await lab.daemon();
    const daemon = live;
    await downThroughHangup({ pbx: lab.bed.pbx, down: () => daemon.kill(), up: () => daemon.restart() });
    const { call, finish } = await finished(live.portal, '5557101');
    expect(finish.params).toMatchObject({ USER_ID: '12', STATUS_CODE: '200' });
    // The truth is 4 s; the daemon knows the answer, and its restart 3 s after the hangup is the latest end (8 s).
    // QueueStatus' LastCall for 102 (whole seconds) puts the end within half a second.
    expect(Number(finish.params['DURATION'])).toBeGreaterThanOrEqual(3);
    expect(Number(finish.params['DURATION'])).toBeLessThanOrEqual(5);
    expect(cardsLeftOpen(call)).toEqual([]);
    expect(expectEachCallOnce(live.portal)).toEqual([]);
  });

  it('Asterisk restarts (core restart now) under a talking call: the call is finished once, by 12, with the talk until the restart', async () => {
    live = await lab.daemon();
    const { pbx, ast } = lab.bed;
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
