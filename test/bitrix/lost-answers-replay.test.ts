import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { AmiMessage } from '../../src/ami/types.js';
import { createBitrixClient, type BitrixClient } from '../../src/bitrix/client.js';
import { createBitrixError } from '../../src/bitrix/errors.js';
import { LeakyBucket } from '../../src/bitrix/limiter.js';
import { parseConfig } from '../../src/config/load.js';
import type { Effect } from '../../src/core/effects.js';
import { startBridge, type Bridge } from '../../src/daemon/app.js';
import { DEMO_USERS } from '../../src/demo/scenarios.js';
import { startAmiSimulator, type AmiSimulator } from '../../src/sim/ami-simulator.js';
import { startBitrixEmulator, type BitrixEmulator } from '../../src/sim/bitrix-emulator.js';
import { silentLogger } from '../support/logger.js';
import { removeTempDirs, tempDir } from '../support/tmp.js';
import { asTrace, copied, replayEvents, shifted, stamp } from '../support/trace-replay.js';
import { TRACE_USERS } from '../support/traces.js';
import { waitFor } from '../support/wait.js';

/**
 * A busy replay (copies of the recorded calls, overlapping) while the portal's answers are lost at random: the portal
 * does the work, then the connection resets, as when a proxy or the network drops it after processing. Bitrix24's
 * state in the emulator must show every call registered once and finished, whatever was lost.
 */

let portal: BitrixEmulator | undefined;
let pbx: AmiSimulator | undefined;
let bridge: Bridge | undefined;

afterEach(async () => {
  await bridge?.stop(1000);
  await pbx?.close();
  await portal?.close();
  bridge = pbx = portal = undefined;
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
  const t0 = Date.now() / 1000;
  for (let k = 0; k < COPIES; k++) {
    for (const name of TRACES) {
      const trace = replayEvents(name);
      // Every trace starts at t0 + 2k s: copies and traces overlap like a busy queue.
      events.push(...shifted(copied(trace, k), t0 - stamp(trace[0]) + 2 * k));
    }
  }
  return asTrace(events.sort((a, b) => stamp(a) - stamp(b)));
}

/** A deterministic coin, so a failure can be replayed. */
function coin(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

interface Losses {
  register: number;
  finish: number;
  other: number;
}

/** The real client against the emulator; after the portal answered, some answers are thrown away as a reset would. */
function losingClient(webhookUrl: string, chance: number): { client: BitrixClient; lost: Losses } {
  const real = createBitrixClient({ webhookUrl, limiter: new LeakyBucket(RATE), timeoutMs: 2000 });
  const flip = coin(15);
  const lost: Losses = { register: 0, finish: 0, other: 0 };
  const reset = (method: string) => createBitrixError(method, { type: 'network', code: 'ECONNRESET', name: 'RequestError', message: 'read ECONNRESET' });
  return {
    lost,
    client: {
      call: async <T,>(method: string, params?: Record<string, unknown>) => {
        const result = await real.call<T>(method, params);
        if (/externalcall\.(register|finish)$/.test(method) && flip() < chance) {
          lost[method.endsWith('register') ? 'register' : 'finish']++;
          throw reset(method);
        }
        return result;
      },
      batch: async (commands, opts) => {
        const outcome = await real.batch(commands, opts);
        const has = (m: string) => commands.some((c) => c.method === `telephony.externalcall.${m}`);
        // At random, and surely a few times on registers and on finishes (batching varies with timing).
        const lose = flip() < chance || (has('register') && lost.register < 3) || (has('finish') && lost.finish < 3);
        if (lose) {
          if (has('register')) lost.register++;
          if (has('finish')) lost.finish++;
          if (!has('register') && !has('finish')) lost.other++;
          throw reset('batch');
        }
        return outcome;
      },
    },
  };
}

describe('lost answers in a busy replay', () => {
  it('register every call once and finish every call, with nothing parked', async () => {
    portal = await startBitrixEmulator({ users: DEMO_USERS, rateLimit: RATE });
    pbx = await startAmiSimulator({ username: 'b', secret: 's' });
    const { client, lost } = losingClient(portal.webhookUrl, 0.3);
    const registers: Effect[] = [];
    bridge = await startBridge(
      parseConfig({
        asterisk: { ami: { host: pbx.host, port: pbx.port, username: 'b', secret: 's' } },
        bitrix: { webhookUrl: portal.webhookUrl, defaultUserId: 1, rateLimit: RATE },
        users: { extensions: { ...TRACE_USERS }, refreshIntervalSec: 0 },
        outbox: { maxRetryDelayMs: 300 },
        http: { host: '127.0.0.1', port: 0 },
        recordings: { enabled: false },
        state: { dir: join(tempDir('b24lost-'), 'state') },
      }),
      { logger: silentLogger, bitrix: client, onEffect: (e) => e.type === 'register' && registers.push(e) },
    );
    await waitFor(() => bridge!.ami.isConnected, 'the AMI login');
    // The portal is down for the first calls: they end before their register was delivered (the case).
    portal.faults.setDown(503);
    setTimeout(() => portal!.faults.setUp(), 2500);
    await pbx.replay(busyTrace(), { speed: 10 });
    await waitFor(() => registers.length > 0 && bridge!.outbox.depth === 0 && bridge!.tracker.activeCalls === 0, 'every call ended and delivered', 60_000);

    // The faults happened where they matter: on registers, on finishes.
    expect(lost.register).toBeGreaterThan(0);
    expect(lost.finish).toBeGreaterThan(0);
    expect(registers.length).toBe(COPIES * 8);

    const calls = [...portal.calls.values()].filter((c) => c.registeredVia === 'rest');
    const perExternalId = new Map<string, number>();
    for (const c of calls) perExternalId.set(String(c.externalCallId), (perExternalId.get(String(c.externalCallId)) ?? 0) + 1);
    expect([...perExternalId.values()].filter((n) => n > 1)).toEqual([]);
    expect(new Set(perExternalId.keys())).toEqual(new Set(registers.map((r) => (r as { linkedid: string }).linkedid)));
    expect(calls.filter((c) => !c.finished).map((c) => c.externalCallId)).toEqual([]);
    expect(bridge.outbox.parkedEntries().map((p) => [p.kind, p.error])).toEqual([]);
  }, 90_000);
});
