import { afterEach, describe, expect, it } from 'vitest';
import { AmiConnection } from '../../src/ami/connection.js';
import type { AmiMessage } from '../../src/ami/types.js';
import { ringBackConfig } from '../../src/config/ringback.js';
import { RingBackService } from '../../src/ringback/service.js';
import { MemoryRingBackStore } from '../../src/ringback/store.js';
import { startAmiSimulator, type AmiSimulator, type SimQueueState } from '../../src/sim/ami-simulator.js';
import { captureLogger } from '../support/logger.js';
import { traceMessages } from '../support/traces.js';
import { sleep, waitFor } from '../support/wait.js';
import { OUR_REASON, runRingBack, traceEvent } from './support.js';

/**
 * The ring-back service against the AMI simulator over TCP, fed the recorded autopause events of Asterisk 22
 * (test/fixtures/ami/autopause) in both orders. The simulator holds 301 paused by `Auto-Pause`, as Asterisk does
 * by the time anything sent on the miss can reach it (app_queue pauses in `rna()`, right after publishing the miss).
 */

const SECRET = 'autopause-secret';
const IFACE_301 = 'Local/301@agents/n';
const MISS = traceEvent('autopause', (m) => m['Event'] === 'AgentRingNoAnswer');
const AUTO_PAUSE = traceEvent('autopause', (m) => m['Event'] === 'QueueMemberPause' && m['Paused'] === '1');

/** sales_autopause as the trace's final QueueStatus listed it, with 301 paused (`Auto-Pause`) or not. */
function queueState(autopaused: boolean): SimQueueState {
  const items = traceMessages('autopause')
    .filter((m) => m['ActionID'] === 'observer-2' && (m['Event'] === 'QueueParams' || m['Event'] === 'QueueMember'))
    .map(({ ActionID: _drop, ...rest }) => rest as AmiMessage)
    .map((m) => (m['Location'] === IFACE_301 ? { ...m, Paused: autopaused ? '1' : '0', PausedReason: autopaused ? 'Auto-Pause' : '' } : m));
  return { params: items.filter((m) => m['Event'] === 'QueueParams'), members: items.filter((m) => m['Event'] === 'QueueMember') };
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setUp() {
  const sim: AmiSimulator = await startAmiSimulator({ username: 'bridge', secret: SECRET, queueState: queueState(false) });
  cleanups.push(() => sim.close());
  const ami = new AmiConnection({ host: '127.0.0.1', port: sim.port, username: 'bridge', secret: SECRET, pingIntervalMs: 0 });
  const log = captureLogger('debug');
  const service = new RingBackService({ ami, store: new MemoryRingBackStore(), config: ringBackConfig({ cooldownSec: 1 }), logger: log.logger });
  cleanups.push(await runRingBack(ami, service));
  const pauses = () => sim.received.filter((a) => a['Action'] === 'QueuePause').map((a) => [a['Interface'], a['Paused'], a['Reason']]);
  const member301 = () => statusOf(sim);
  const events = (event: string) => log.lines().filter((l) => l['event'] === event);
  return { sim, service, log, pauses, member301, events };
}

/** 301 as the simulator's QueueStatus shows it now, read through a session of its own. */
async function statusOf(sim: AmiSimulator): Promise<AmiMessage | undefined> {
  const peek = new AmiConnection({ host: '127.0.0.1', port: sim.port, username: 'bridge', secret: SECRET, pingIntervalMs: 0, events: 'off' });
  await peek.connect();
  const { events } = await peek.action('QueueStatus', { Queue: 'sales_autopause', Member: IFACE_301 });
  await peek.close();
  return events.find((e) => e['Event'] === 'QueueMember');
}

describe('autopause, with the ring-back service on a simulated Asterisk', () => {
  it('the miss first (as recorded): our pause is handed back with Auto-Pause, and neither the cooldown nor the shutdown unpauses 301', async () => {
    const { sim, service, pauses, member301, events } = await setUp();
    sim.setQueueState(queueState(true));
    sim.emitEvent(MISS);
    sim.emitEvent(AUTO_PAUSE);
    await waitFor(() => events('handedBack').length === 1, 'the hand-back of 301');
    await waitFor(() => pauses().length === 2, 'the QueuePause that gives Auto-Pause back');
    expect(pauses()).toEqual([
      [IFACE_301, 'true', OUR_REASON],
      [IFACE_301, 'true', 'Auto-Pause'],
    ]);
    expect(events('handedBack')[0]).toMatchObject({ queue: 'sales_autopause', iface: IFACE_301, cause: 'pausedByOther' });
    await sleep(1300); // past the 1 s cooldown
    await service.releaseAll(1000);
    expect(pauses()).toHaveLength(2);
    expect(await member301()).toMatchObject({ Paused: '1', PausedReason: 'Auto-Pause' });
    expect(service.setAsideCount()).toBe(0);
    expect(events('adopted')).toEqual([]);
  });

  it('Auto-Pause first: nothing is sent at all, the miss is logged as skipped', async () => {
    const { sim, service, pauses, member301, events } = await setUp();
    sim.setQueueState(queueState(true));
    sim.emitEvent(AUTO_PAUSE);
    sim.emitEvent(MISS);
    await waitFor(() => events('skipped').some((l) => l['cause'] === 'alreadyPaused'), 'the miss to be skipped');
    await sleep(1300);
    await service.releaseAll(1000);
    expect(pauses()).toEqual([]);
    expect(await member301()).toMatchObject({ Paused: '1', PausedReason: 'Auto-Pause' });
    expect(service.setAsideCount()).toBe(0);
  });

  it('without autopause the same miss is paused and undone after the cooldown (the fix still works)', async () => {
    const { sim, pauses, member301, events } = await setUp();
    sim.emitEvent(MISS);
    await waitFor(() => events('undone').length === 1, 'the pause to be undone after the cooldown', 5000);
    expect(pauses()).toEqual([
      [IFACE_301, 'true', OUR_REASON],
      [IFACE_301, 'false', undefined],
    ]);
    expect(await member301()).toMatchObject({ Paused: '0' });
  });
});
