import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryOutboxStore } from '../../src/bitrix/outbox-entry.js';
import { parseConfig } from '../../src/config/load.js';
import { startBridge, type Bridge } from '../../src/daemon/app.js';
import { ResyncRetry } from '../../src/daemon/resync-retry.js';
import { DEMO_USERS } from '../../src/demo/scenarios.js';
import { startAmiSimulator, type AmiSimulator } from '../../src/sim/ami-simulator.js';
import { startBitrixEmulator, type BitrixEmulator } from '../../src/sim/bitrix-emulator.js';
import { tempDir, waitFor } from '../support/daemon-process.js';
import { splitTrace, traceBytes } from '../support/traces.js';

const silent = { info() {}, warn() {} };

describe('the resync retry', () => {
  it('tries again with backoff while connected until the resync succeeds', async () => {
    const at: number[] = [];
    const t0 = Date.now();
    let failures = 3;
    const r = new ResyncRetry({
      attempt: async () => {
        at.push(Date.now() - t0);
        if (failures-- > 0) throw new Error('CoreShowChannels got no answer');
      },
      isConnected: () => true,
      logger: silent,
      initialDelayMs: 20,
      maxDelayMs: 50,
    });
    r.start();
    await waitFor(() => at.length === 4, 2000, 'four attempts');
    await new Promise((res) => setTimeout(res, 150));
    expect(at).toHaveLength(4); // it stops once one succeeded
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    expect(gaps[0]).toBeGreaterThanOrEqual(18);
    expect(gaps[1]).toBeGreaterThanOrEqual(38);
    expect(gaps[2]).toBeGreaterThanOrEqual(48); // capped at maxDelayMs
    expect(gaps[2]).toBeLessThan(150);
  });

  it('gives up when the connection drops, and starts over on the next connect', async () => {
    let connected = true;
    let calls = 0;
    const r = new ResyncRetry({
      attempt: async () => {
        calls++;
        throw new Error('timeout');
      },
      isConnected: () => connected,
      logger: silent,
      initialDelayMs: 10,
    });
    r.start();
    await waitFor(() => calls >= 2, 1000, 'a retry');
    connected = false;
    r.stop();
    const stoppedAt = calls;
    await new Promise((res) => setTimeout(res, 100));
    expect(calls).toBe(stoppedAt);
    connected = true;
    r.start();
    expect(calls).toBe(stoppedAt + 1);
    r.stop();
  });

  it('lets an attempt of an older connection neither retry nor race the new one', async () => {
    let release!: (v?: unknown) => void;
    const calls: string[] = [];
    let n = 0;
    const r = new ResyncRetry({
      attempt: () => {
        const id = `a${++n}`;
        calls.push(id);
        if (id === 'a1') return new Promise((_res, rej) => (release = () => rej(new Error('late failure'))));
        return Promise.resolve();
      },
      isConnected: () => true,
      logger: silent,
      initialDelayMs: 5,
    });
    r.start();
    r.start(); // reconnected while the first attempt hangs
    release();
    await new Promise((res) => setTimeout(res, 50));
    expect(calls).toEqual(['a1', 'a2']);
  });
});

let portal: BitrixEmulator | undefined;
let pbx: AmiSimulator | undefined;
let bridge: Bridge | undefined;

afterEach(async () => {
  await bridge?.stop(500);
  await pbx?.close();
  await portal?.close();
  bridge = pbx = portal = undefined;
});


describe('the daemon after an AMI reconnect whose resync times out', () => {
  it('keeps resyncing while connected and finishes the call that ended while it was blind', async () => {
    let swallow = 0;
    portal = await startBitrixEmulator({ users: DEMO_USERS });
    pbx = await startAmiSimulator({
      username: 'b',
      secret: 's',
      // A busy Asterisk that does not answer CoreShowChannels in time, twice.
      onAction: (a) => (String(a['Action']).toLowerCase() === 'coreshowchannels' && swallow-- > 0 ? [] : undefined),
    });
    const config = parseConfig({
      asterisk: { ami: { host: pbx.host, port: pbx.port, username: 'b', secret: 's', actionTimeoutMs: 200, reconnect: { initialDelayMs: 100, maxDelayMs: 400 } } },
      bitrix: { webhookUrl: portal.webhookUrl, defaultUserId: 1 },
      users: { extensions: { '101': 11, '102': 12, '103': 13 }, refreshIntervalSec: 0 },
      http: { host: '127.0.0.1', port: 0 },
      state: { dir: join(tempDir('b24resync-'), 'state') },
      recordings: { enabled: false },
    });
    bridge = await startBridge(config, { logger: pino({ level: 'silent' }), store: new MemoryOutboxStore() });
    const [ringing, rest] = splitTrace('caller_abandon', (m) => m['Event'] === 'QueueCallerAbandon');
    await pbx.replay(ringing, { speed: 20 });
    await waitFor(() => portal!.commands.some((c) => c.method === 'telephony.externalcall.show' && c.ok), 10_000, 'the cards');
    swallow = 2;
    const sessionsBefore = pbx.sessions.length;
    pbx.dropConnections();
    await pbx.replay(rest, { speed: Infinity }); // the caller hangs up while the daemon is blind
    await waitFor(() => [...portal!.calls.values()].some((c) => c.finished), 10_000, 'the finish after the resync retries');
    const asked = pbx.received.filter((a) => String(a['Action']).toLowerCase() === 'coreshowchannels');
    expect(asked.length).toBeGreaterThanOrEqual(4); // at start, then 2 unanswered and 1 answered on the new session
    expect(pbx.sessions.length).toBe(sessionsBefore + 1); // one reconnect: the retries ran on the same connection
    expect(portal.commands.filter((c) => c.method === 'telephony.externalcall.finish').map((c) => [c.ok, c.params['STATUS_CODE']])).toEqual([[true, '304']]);
  }, 20_000);
});
