import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { AmiMessage } from '../../src/ami/types.js';
import { batchMethods } from '../../src/sim/bitrix/lost-answers.js';
import { startRig, type Rig } from '../support/rig.js';
import { removeTempDirs } from '../support/tmp.js';
import { asTrace, copied, replayEvents, shifted, stamp, startingNow } from '../support/trace-replay.js';
import { TRACE_USERS } from '../support/traces.js';
import { waitFor } from '../support/wait.js';

/**
 * A busy replay (copies of the recorded calls, overlapping) while the portal's answers are lost at random: the portal
 * does the work, then the connection resets, as when a proxy or the network drops it after processing (the
 * emulator's `loseAnswers` fault). Bitrix24's state in the emulator must show every call registered once and
 * finished, whatever was lost.
 */

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});
afterAll(removeTempDirs);

const TRACES = ['support_ringall_answer', 'caller_abandon', 'blind_transfer', 'no_members_all_paused', 'recording', 'ringback_fixed_pause'];
const COPIES = 5;
const RATE = { perSecond: 20, burst: 100 };

/**
 * Every trace, COPIES times as different calls, each copy 2 s after the previous one: ~40 calls overlapping. They
 * start now (their Timestamps are moved): Bitrix24 recognises a repeated register only within 30 minutes of its
 * CALL_START_DATE, and a recorded date from weeks ago would (rightly) have its lost registers parked, not repeated.
 */
function busyTrace(): string {
  const events: AmiMessage[] = [];
  for (let k = 0; k < COPIES; k++) {
    // Every trace starts now + 2k s: copies and traces overlap like a busy queue.
    for (const name of TRACES) events.push(...shifted(startingNow(copied(replayEvents(name), k)), 2 * k));
  }
  return asTrace(events.sort((a, b) => stamp(a) - stamp(b)));
}

describe('lost answers in a busy replay', () => {
  it('register every call once and finish every call, with nothing parked', async () => {
    const registers: string[] = [];
    rig = await startRig({
      portal: { rateLimit: RATE },
      config: () => ({ bitrix: { rateLimit: RATE, timeoutMs: 2000 }, users: { extensions: { ...TRACE_USERS }, refreshIntervalSec: 0 }, outbox: { maxRetryDelayMs: 300 } }),
      deps: { onEffect: (e) => void (e.type === 'register' && registers.push(e.linkedid)) },
    });
    const { portal, pbx, bridge } = rig;
    // Surely a few on batches with a register and on batches with a finish, and any request at random.
    portal.faults.loseAnswers(3, { batchContaining: ['telephony.externalcall.register'] });
    portal.faults.loseAnswers(3, { batchContaining: ['telephony.externalcall.finish'] });
    portal.faults.loseAnswers(Infinity, { probability: 0.3, seed: 15 });
    await waitFor(() => bridge.ami.isConnected, 'the AMI login');
    // The portal is down for the first calls: they end before their register was delivered (the case).
    portal.faults.setDown(503);
    setTimeout(() => portal.faults.setUp(), 2500);
    await pbx.replay(busyTrace(), { speed: 10 });
    await waitFor(() => registers.length > 0 && bridge.outbox.depth === 0 && bridge.tracker.activeCalls === 0, 'every call ended and delivered', 60_000);

    // The faults happened where they matter: on registers, on finishes, and elsewhere.
    const lost = portal.requests.filter((r) => r.answerLost).map((r) => (r.restMethod === 'batch' ? batchMethods(r.params) : [String(r.restMethod)]));
    expect(lost.filter((m) => m.includes('telephony.externalcall.register')).length).toBeGreaterThanOrEqual(3);
    expect(lost.filter((m) => m.includes('telephony.externalcall.finish')).length).toBeGreaterThanOrEqual(3);
    expect(lost.length).toBeGreaterThan(6);
    expect(registers).toHaveLength(COPIES * 8);

    expect(registers.filter((id) => portal.callsFor(id).length !== 1)).toEqual([]);
    expect(registers.filter((id) => !portal.callsFor(id)[0]!.finished)).toEqual([]);
    expect([...portal.calls.values()].filter((c) => c.registeredVia === 'rest')).toHaveLength(COPIES * 8);
    expect(bridge.outbox.parkedEntries().map((p) => [p.kind, p.error])).toEqual([]);
  }, 90_000);
});
