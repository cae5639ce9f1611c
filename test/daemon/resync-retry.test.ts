import { afterEach, describe, expect, it } from 'vitest';
import { MemoryOutboxStore } from '../../src/bitrix/outbox-entry.js';
import { ResyncRetry } from '../../src/daemon/resync-retry.js';
import { silentLogger } from '../support/logger.js';
import { startRig, type Rig } from '../support/rig.js';
import { splitTrace } from '../support/traces.js';
import { sleep, waitFor } from '../support/wait.js';

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
      logger: silentLogger,
      initialDelayMs: 20,
      maxDelayMs: 50,
    });
    r.start();
    await waitFor(() => at.length === 4, 'four attempts', 2000);
    await sleep(150);
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
      logger: silentLogger,
      initialDelayMs: 10,
    });
    r.start();
    await waitFor(() => calls >= 2, 'a retry', 1000);
    connected = false;
    r.stop();
    const stoppedAt = calls;
    await sleep(100);
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
      logger: silentLogger,
      initialDelayMs: 5,
    });
    r.start();
    r.start(); // reconnected while the first attempt hangs
    release();
    await sleep(50);
    expect(calls).toEqual(['a1', 'a2']);
  });
});

let rig: Rig | undefined;

afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

describe('the daemon after an AMI reconnect whose resync times out', () => {
  it('keeps resyncing while connected and finishes the call that ended while it was blind', async () => {
    let swallow = 0;
    rig = await startRig({
      // A busy Asterisk that does not answer CoreShowChannels in time, twice.
      pbx: { onAction: (a) => (String(a['Action']).toLowerCase() === 'coreshowchannels' && swallow-- > 0 ? [] : undefined) },
      config: () => ({ asterisk: { ami: { actionTimeoutMs: 200 } }, users: { extensions: { '101': 11, '102': 12, '103': 13 }, refreshIntervalSec: 0 } }),
      deps: { store: new MemoryOutboxStore() },
    });
    const { portal, pbx } = rig;
    const [ringing, rest] = splitTrace('caller_abandon', (m) => m['Event'] === 'QueueCallerAbandon');
    await pbx.replay(ringing, { speed: 20 });
    await waitFor(() => portal.commands.some((c) => c.method === 'telephony.externalcall.show' && c.ok), 'the cards', 10_000);
    swallow = 2;
    const sessionsBefore = pbx.sessions.length;
    pbx.dropConnections();
    await pbx.replay(rest, { speed: Infinity }); // the caller hangs up while the daemon is blind
    await waitFor(() => [...portal.calls.values()].some((c) => c.finished), 'the finish after the resync retries', 10_000);
    const asked = pbx.received.filter((a) => String(a['Action']).toLowerCase() === 'coreshowchannels');
    expect(asked.length).toBeGreaterThanOrEqual(4); // at start, then 2 unanswered and 1 answered on the new session
    expect(pbx.sessions.length).toBe(sessionsBefore + 1); // one reconnect: the retries ran on the same connection
    expect(portal.commands.filter((c) => c.method === 'telephony.externalcall.finish').map((c) => [c.ok, c.params['STATUS_CODE']])).toEqual([[true, '304']]);
  }, 20_000);
});
