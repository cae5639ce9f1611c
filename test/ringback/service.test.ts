import * as fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { AmiConnection } from '../../src/ami/connection.js';
import { AmiFramer } from '../../src/ami/framer.js';
import type { AmiMessage } from '../../src/ami/types.js';
import { ringBackConfig } from '../../src/config/ringback.js';
import { RingBackService, type RingBackNotice } from '../../src/ringback/service.js';
import { FileRingBackStore, MemoryRingBackStore, RingBackStoreError, type RingBackStore } from '../../src/ringback/store.js';
import { startAmiSimulator, type AmiSimulator } from '../../src/sim/ami-simulator.js';
import { captureLogger } from '../support/logger.js';
import { tempDir } from '../support/tmp.js';
import { AMI_DIR } from '../support/traces.js';
import { sleep, waitFor } from '../support/wait.js';
import { IFACE_201, IFACE_202, OUR_REASON, recordedQueueState, runRingBack, traceEvent } from './support.js';

/** The service against the AMI simulator over TCP, answering like Asterisk 22 did in the queue_actions trace. */

const SECRET = 'ringback-secret';
/** pino's numbers for the levels. */
const DEBUG = 20;
const INFO = 30;
const WARN = 40;
const ERROR = 50;
/** The recorded actions of a .sent file, without their ActionID. */
function sentActions(name: string): AmiMessage[] {
  const out = new AmiFramer({ expectBanner: false }).push(fs.readFileSync(`${AMI_DIR}${name}.sent`));
  return out.flatMap((o) => (o.type === 'message' ? [withoutId(o.message)] : []));
}
const withoutId = (m: AmiMessage): AmiMessage => {
  const { ActionID: _drop, ...rest } = m;
  return rest;
};

// Real events from the traces, replayed through the simulator.
const MISS_201 = traceEvent('sales_leastrecent_ringback', (m) => m['Event'] === 'AgentRingNoAnswer');
const missOf = (iface: string, name: string, queue = 'sales'): AmiMessage => ({ ...MISS_201, Interface: iface, MemberName: name, Queue: queue });
const CONNECT_202 = traceEvent('ringback_fixed_pause', (m) => m['Event'] === 'AgentConnect' && m['Interface'] === IFACE_202);
/** No trace has a ringall member ringing out (callers left first): the real event, moved to support's timeout. */
const SUPPORT_MISS: AmiMessage = { ...missOf('Local/101@agents/n', 'Agent 101', 'support'), RingTime: '15000' };

const isAction = (name: string, pred: (a: AmiMessage) => boolean = () => true) => (a: AmiMessage) =>
  String(a['Action']).toLowerCase() === name.toLowerCase() && pred(a);
const unpauseOf = (iface: string) => isAction('QueuePause', (a) => a['Interface'] === iface && a['Paused'] === 'false');
const pauseOf = (iface: string) => isAction('QueuePause', (a) => a['Interface'] === iface && a['Paused'] === 'true');

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function simulator(): Promise<AmiSimulator> {
  const sim = await startAmiSimulator({ username: 'bridge', secret: SECRET, queueState: recordedQueueState() });
  cleanups.push(() => sim.close());
  return sim;
}

interface Options {
  config?: Parameters<typeof ringBackConfig>[0];
  store?: RingBackStore;
  clock?: () => number;
  reconnectDelayMs?: number;
  notify?: (n: RingBackNotice) => void;
}

/** A service wired as the daemon should wire it: started first, then AMI events and every (re)login. */
async function bridge(sim: AmiSimulator, opts: Options = {}) {
  const ami = new AmiConnection({
    host: '127.0.0.1',
    port: sim.port,
    username: 'bridge',
    secret: SECRET,
    pingIntervalMs: 0,
    reconnect: { initialDelayMs: opts.reconnectDelayMs ?? 50, maxDelayMs: 1000, factor: 2, jitter: 0 },
    connectTimeoutMs: 3000,
  });
  const log = captureLogger();
  const metrics: string[] = [];
  const store = opts.store ?? new MemoryRingBackStore();
  const service = new RingBackService({
    ami,
    store,
    config: ringBackConfig({ cooldownSec: 0.3, ...opts.config }),
    logger: log.logger,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.notify ? { notify: opts.notify } : {}),
    metrics: { record: (event, l) => metrics.push(`${event} ${l.queue} ${l.policy} ${l.cause}`) },
  });
  ami.on('connected', () => void service.onAmiReconnected());
  cleanups.push(await runRingBack(ami, service));
  return { ami, service, log, metrics, store };
}

/** A member as the simulator's QueueStatus shows it now, read through a separate session without events. */
async function statusOf(sim: AmiSimulator, queue: string, iface: string): Promise<AmiMessage | undefined> {
  const peek = new AmiConnection({ host: '127.0.0.1', port: sim.port, username: 'bridge', secret: SECRET, pingIntervalMs: 0, events: 'off' });
  await peek.connect();
  const { events } = await peek.action('QueueStatus', { Queue: queue, Member: iface });
  await peek.close();
  return events.find((e) => e['Event'] === 'QueueMember');
}

describe('RingBackService against the AMI simulator', () => {
  it('reads every queue once at start, then pauses 201 on its first miss exactly as the recorded fix did', async () => {
    const sim = await simulator();
    const { log, metrics } = await bridge(sim, { config: { cooldownSec: 30 } });
    expect(sim.received.filter(isAction('QueueStatus')).map(withoutId)).toContainEqual({ Action: 'QueueStatus' });
    sim.emitEvent(MISS_201);
    const sent = withoutId(await sim.waitForAction('QueuePause', (a) => a['Interface'] === IFACE_201));
    const recorded = sentActions('ringback_fixed_pause').find((a) => a['Reason'] === OUR_REASON)!;
    expect(Object.entries(sent)).toEqual(Object.entries(recorded)); // same headers, same order
    await waitFor(() => log.lines().find((l) => l['event'] === 'applied'), "the 'applied' log line");
    const applied = log.lines().find((l) => l['event'] === 'applied')!;
    expect(applied).toMatchObject({ level: INFO, msg: 'ring-back: member paused after a missed ring' });
    expect(applied).toMatchObject({ queue: 'sales', member: 'Agent 201', iface: IFACE_201, reason: OUR_REASON, cooldownSec: 30 });
    expect(metrics).toEqual(['applied sales pause noAnswer']);
    expect(await statusOf(sim, 'sales', IFACE_201)).toMatchObject({ Paused: '1', PausedReason: OUR_REASON });
  });

  it('unpauses 201 when the cooldown ends, as the recorded undo did, and keeps nothing on record', async () => {
    const sim = await simulator();
    const { store, log } = await bridge(sim);
    const t0 = Date.now();
    sim.emitEvent(MISS_201);
    const undo = withoutId(await sim.waitForAction('QueuePause', unpauseOf(IFACE_201)));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    const recorded = sentActions('ringback_fixed_pause').filter((a) => a['Action'] === 'QueuePause' && a['Paused'] === 'false').at(-1)!;
    expect(Object.entries(undo)).toEqual(Object.entries(recorded));
    await waitFor(() => log.lines().find((l) => l['event'] === 'undone'), "the 'undone' log line");
    expect(store.load()?.changes).toEqual([]);
    expect(await statusOf(sim, 'sales', IFACE_201)).toMatchObject({ Paused: '0' });
  });

  it('undoes the pause as soon as the member answers a call, here in another queue', async () => {
    const sim = await simulator();
    const { log } = await bridge(sim, { config: { cooldownSec: 30 } });
    sim.emitEvent(MISS_201);
    await sim.waitForAction('QueuePause', pauseOf(IFACE_201));
    sim.emitEvent({ ...CONNECT_202, Queue: 'support', Interface: IFACE_201, MemberName: 'Agent 201' });
    await sim.waitForAction('QueuePause', unpauseOf(IFACE_201), 2000);
    await waitFor(() => log.lines().find((l) => l['event'] === 'undone'), "the 'undone' log line");
    expect(log.lines().find((l) => l['event'] === 'undone')?.['cause']).toBe('answered');
  });

  it('never touches a pause a human made: neither a paused member who misses, nor our member re-paused with another reason', async () => {
    const sim = await simulator();
    const { log } = await bridge(sim);
    const human = new AmiConnection({ host: '127.0.0.1', port: sim.port, username: 'bridge', secret: SECRET, pingIntervalMs: 0 });
    await human.connect();
    cleanups.push(() => human.close());
    await human.action('QueuePause', { Interface: IFACE_202, Queue: 'sales', Paused: 'true', Reason: 'lunch' });
    await waitFor(() => sim.received.filter(isAction('QueuePause')).length === 1, "the human's QueuePause");
    await sleep(50);
    sim.emitEvent(missOf(IFACE_202, 'Agent 202')); // a ring that started just before the human's pause
    sim.emitEvent(MISS_201);
    await sim.waitForAction('QueuePause', pauseOf(IFACE_201));
    await waitFor(() => log.lines().find((l) => l['event'] === 'applied'), "the 'applied' log line");
    await human.action('QueuePause', { Interface: IFACE_201, Queue: 'sales', Paused: 'true', Reason: 'lunch' });
    await waitFor(() => log.lines().find((l) => l['event'] === 'forgotten'), "the 'forgotten' log line");
    await sleep(500); // the cooldown (0.3 s) is over
    const ours = sim.received.filter(isAction('QueuePause', (a) => a['Reason'] !== 'lunch'));
    expect(ours.map((a) => [a['Interface'], a['Paused']])).toEqual([[IFACE_201, 'true']]);
    expect(log.lines().filter((l) => l['event'] === 'skipped' && l['level'] !== DEBUG).map((l) => l['cause'])).toEqual(['alreadyPaused']);
    expect(await statusOf(sim, 'sales', IFACE_201)).toMatchObject({ Paused: '1', PausedReason: 'lunch' });
    expect(await statusOf(sim, 'sales', IFACE_202)).toMatchObject({ Paused: '1', PausedReason: 'lunch' });
  });

  it('logs a refused QueuePause ("Interface not found") and forgets it: nothing to undo later', async () => {
    const sim = await simulator();
    const { log, store, metrics } = await bridge(sim);
    sim.emitEvent(missOf('Local/209@agents/n', 'Agent 209'));
    await sim.waitForAction('QueuePause');
    const failed = await waitFor(() => log.lines().find((l) => l['event'] === 'failed'), "the 'failed' log line");
    expect(failed).toMatchObject({ level: WARN, queue: 'sales', iface: 'Local/209@agents/n', cause: 'actionFailed', detail: 'Interface not found' });
    await sleep(450);
    expect(sim.received.filter(isAction('QueuePause'))).toHaveLength(1);
    expect(store.load()?.changes).toEqual([]);
    expect(metrics).toEqual(['failed sales pause actionFailed']);
  });

  it('leaves a ringall queue alone', async () => {
    const sim = await simulator();
    await bridge(sim);
    sim.emitEvent(SUPPORT_MISS);
    sim.emitEvent(MISS_201); // sent after it: once its pause is here, the support miss has been handled
    await sim.waitForAction('QueuePause', pauseOf(IFACE_201));
    expect(sim.received.filter(isAction('QueuePause', (a) => a['Queue'] === 'support'))).toEqual([]);
  });

  it('with the penalty policy raises the penalty with QueuePenalty as recorded, and restores the original one', async () => {
    const sim = await simulator();
    const state = recordedQueueState();
    for (const m of state.members) if (m['Location'] === IFACE_201 && m['Queue'] === 'sales') m['Penalty'] = '2';
    sim.setQueueState(state);
    await bridge(sim, { config: { policy: 'penalty' } });
    sim.emitEvent(MISS_201);
    const raise = withoutId(await sim.waitForAction('QueuePenalty'));
    const recorded = sentActions('ringback_fixed_penalty').find((a) => a['Action'] === 'QueuePenalty')!;
    expect(Object.keys(raise)).toEqual(Object.keys(recorded));
    expect(raise).toEqual({ Action: 'QueuePenalty', Interface: IFACE_201, Penalty: '12', Queue: 'sales' });
    const restore = await sim.waitForAction('QueuePenalty', (a) => a['Penalty'] === '2');
    expect(withoutId(restore)).toEqual({ Action: 'QueuePenalty', Interface: IFACE_201, Penalty: '2', Queue: 'sales' });
  });

  it('escalates the cooldown of a member who misses again after the undo, up to the cap', async () => {
    const sim = await simulator();
    const { log } = await bridge(sim, { config: { cooldownSec: 0.2, escalation: { factor: 2, maxCooldownSec: 0.3 } } });
    for (let n = 1; n <= 3; n++) {
      sim.emitEvent(MISS_201);
      await waitFor(() => log.lines().filter((l) => l['event'] === 'undone').length === n, "the 'undone' log lines");
    }
    expect(log.lines().filter((l) => l['event'] === 'applied').map((l) => l['cooldownSec'])).toEqual([0.2, 0.3, 0.3]);
  });

  it('tells the agent when notifyAgent is on', async () => {
    const sim = await simulator();
    const notices: RingBackNotice[] = [];
    await bridge(sim, { config: { notifyAgent: true, cooldownSec: 30 }, notify: (n) => void notices.push(n) });
    sim.emitEvent(MISS_201);
    await waitFor(() => notices.length > 0, 'the notice to the agent');
    expect(notices).toEqual([{ queue: 'sales', iface: IFACE_201, memberName: 'Agent 201', cooldownSec: 30, policy: 'pause' }]);
  });

  it('acts in a queue it learns of late (realtime, or added since start) once QueueStatus has told its strategy', async () => {
    const sim = await simulator();
    await bridge(sim);
    const state = recordedQueueState();
    state.params.push({ Event: 'QueueParams', Queue: 'late', Strategy: 'fewestcalls', Calls: '0' });
    state.members.push({ ...state.members.find((m) => m['Location'] === IFACE_201)!, Queue: 'late' });
    sim.setQueueState(state);
    sim.emitEvent(missOf(IFACE_201, 'Agent 201', 'late'));
    await sim.waitForAction('QueueStatus', (a) => a['Queue'] === 'late');
    const pause = await sim.waitForAction('QueuePause', pauseOf(IFACE_201));
    expect(pause['Queue']).toBe('late');
  });

  it('releases every pause it holds when asked to before a shutdown for good', async () => {
    const sim = await simulator();
    const { service, store } = await bridge(sim, { config: { cooldownSec: 30 } });
    sim.emitEvent(MISS_201);
    sim.emitEvent(missOf(IFACE_202, 'Agent 202'));
    await waitFor(() => store.load()?.changes.filter((c) => c.phase === 'active').length === 2, 'both pauses saved as active');
    await service.releaseAll(2000);
    expect(sim.received.filter(isAction('QueuePause', (a) => a['Paused'] === 'false')).map((a) => a['Interface'])).toEqual([IFACE_201, IFACE_202]);
    expect(store.load()?.changes).toEqual([]);
  });

  it('makes no change it could not record: a read-only state dir means no pause, and one clear error', async () => {
    const sim = await simulator();
    const readOnly: RingBackStore = {
      file: '/var/lib/asterisk-b24-bridge/ringback.json',
      load: () => undefined,
      save: () => {
        throw new RingBackStoreError('READ_ONLY', 'cannot write ring-back state /var/lib/asterisk-b24-bridge/ringback.json: the file system is read-only (EROFS)', '');
      },
    };
    const { log } = await bridge(sim, { store: readOnly });
    sim.emitEvent(MISS_201);
    sim.emitEvent(missOf(IFACE_202, 'Agent 202'));
    await waitFor(() => log.lines().filter((l) => l['event'] === 'failed').length === 2, "2 'failed' log lines");
    expect(sim.received.filter(isAction('QueuePause'))).toEqual([]);
    expect(log.lines().filter((l) => l['event'] === 'failed').map((l) => l['cause'])).toEqual(['notSaved', 'notSaved']);
    const errors = log.lines().filter((l) => l['level'] === ERROR);
    expect(errors).toHaveLength(1);
    expect(errors[0]!['msg']).toContain('read-only (EROFS); no member is paused or demoted until it can be saved');
  });
});

describe('reconfigure (SIGHUP)', () => {
  it('still unpauses a confirmed pause when its cooldown ends after a reconfigure', async () => {
    const sim = await simulator();
    const { service, store, log } = await bridge(sim, { config: { cooldownSec: 0.6 } });
    sim.emitEvent(MISS_201);
    await waitFor(() => store.load()?.changes.find((c) => c.iface === IFACE_201 && c.phase === 'active'), "201's pause saved as active");
    const t0 = Date.now();
    service.reconfigure(ringBackConfig({ cooldownSec: 30 })); // the new cooldown is for the next change only
    await sim.waitForAction('QueuePause', unpauseOf(IFACE_201), 3000);
    expect(Date.now() - t0).toBeLessThan(2000);
    await waitFor(() => log.lines().find((l) => l['event'] === 'undone'), "the 'undone' log line");
    expect(store.load()?.changes).toEqual([]);
    expect(await statusOf(sim, 'sales', IFACE_201)).toMatchObject({ Paused: '0' });
  });

  it('still releases a pause held across a reconfigure when the daemon stops for good', async () => {
    const sim = await simulator();
    const { service, store } = await bridge(sim, { config: { cooldownSec: 30 } });
    sim.emitEvent(MISS_201);
    await waitFor(() => store.load()?.changes.find((c) => c.iface === IFACE_201 && c.phase === 'active'), "201's pause saved as active");
    service.reconfigure(ringBackConfig({ cooldownSec: 30, reason: 'bridge:missed' }));
    await service.releaseAll(2000);
    expect(sim.received.filter(unpauseOf(IFACE_201))).toHaveLength(1);
    expect(store.load()?.changes).toEqual([]);
  });
});

describe('restarts and reconnects', () => {
  it('after a daemon restart in the middle of a cooldown, undoes what is due at start and re-arms the rest', async () => {
    const sim = await simulator();
    const dir = tempDir('ringback-');
    let offset = 0;
    const first = await bridge(sim, { store: new FileRingBackStore({ dir }), clock: () => Date.now() + offset, config: { cooldownSec: 2 } });
    const acked = (iface: string) => () => first.store.load()?.changes.find((c) => c.iface === iface && c.phase === 'active');
    sim.emitEvent(MISS_201);
    await waitFor(acked(IFACE_201), "201's pause saved as active");
    offset = 1000; // 202 misses one (virtual) second later: its pause ends one second after 201's
    sim.emitEvent(missOf(IFACE_202, 'Agent 202'));
    await waitFor(acked(IFACE_202), "202's pause saved as active");
    first.service.stop(); // a crash: nothing undone, the file says what is ours
    await first.ami.close();

    const before = sim.received.length;
    // The new process starts 2.5 s later (virtual): 201's pause (2 s) is due, 202's has about 0.5 s left.
    const second = await bridge(sim, { store: new FileRingBackStore({ dir }), clock: () => Date.now() + 2500, config: { cooldownSec: 2 } });
    const after = () => sim.received.slice(before);
    await waitFor(() => after().find(unpauseOf(IFACE_201)), 'the unpause of 201');
    expect(after().find(unpauseOf(IFACE_202))).toBeUndefined();
    const started = Date.now();
    await waitFor(() => after().find(unpauseOf(IFACE_202)), 'the unpause of 202', 3000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    await waitFor(() => second.store.load()?.changes.length === 0, 'the saved state emptied');
    expect(await statusOf(sim, 'sales', IFACE_201)).toMatchObject({ Paused: '0' });
    expect(await statusOf(sim, 'sales', IFACE_202)).toMatchObject({ Paused: '0' });
  });

  it('after an AMI reconnect, sends the undo that fell due while the link was down', async () => {
    const sim = await simulator();
    const { log, ami } = await bridge(sim, { reconnectDelayMs: 700 });
    sim.emitEvent(MISS_201);
    await waitFor(() => log.lines().find((l) => l['event'] === 'applied'), "the 'applied' log line");
    sim.dropConnections(); // the pause stays in Asterisk; the undo at 0.3 s cannot be sent
    await waitFor(() => log.lines().find((l) => l['event'] === 'uncertain'), "the 'uncertain' log line", 2000);
    expect(ami.isConnected).toBe(false);
    await waitFor(() => sim.sessions.filter((s) => s.loggedIn).length >= 2, 'the second login', 3000);
    const undo = await sim.waitForAction('QueuePause', unpauseOf(IFACE_201), 3000);
    expect(sim.sessions.at(-1)!.rawInput).toContain(`Interface: ${IFACE_201}\r\nQueue: sales\r\nPaused: false`);
    expect(undo).toBeDefined();
    await waitFor(() => log.lines().find((l) => l['event'] === 'undone'), "the 'undone' log line");
  });

  it('after an Asterisk restart that lost the pause, forgets it and sends nothing', async () => {
    const sim = await simulator();
    const { log, store } = await bridge(sim, { config: { cooldownSec: 30 } });
    sim.emitEvent(MISS_201);
    await waitFor(() => log.lines().find((l) => l['event'] === 'applied'), "the 'applied' log line");
    sim.setQueueState(recordedQueueState()); // a static member comes back from queues.conf: unpaused
    sim.simulateRestart();
    const forgotten = await waitFor(() => log.lines().find((l) => l['event'] === 'forgotten'), "the 'forgotten' log line", 3000);
    expect(forgotten).toMatchObject({ cause: 'unpausedByOther', iface: IFACE_201 });
    expect(sim.received.filter(unpauseOf(IFACE_201))).toEqual([]);
    expect(store.load()?.changes).toEqual([]);
  });
});
