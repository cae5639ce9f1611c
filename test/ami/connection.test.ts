import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { AmiActionError, type AmiClientEvents } from '../../src/ami/client.js';
import { AmiConnection, type AmiConnectionOptions } from '../../src/ami/connection.js';
import { AmiFramer } from '../../src/ami/framer.js';
import { field, type AmiMessage } from '../../src/ami/types.js';
import { startAmiSimulator, traceEventsForReplay, type AmiSimulator, type AmiSimulatorOptions } from '../../src/sim/ami-simulator.js';
import { captureLogger } from '../support/logger.js';
import { sleep, waitFor } from '../support/wait.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/ami/', import.meta.url));
const SECRET = 'hunter2-correct-horse';
/** pino's number for warn. */
const WARN = 40;

/** Records every emission of the given client events, in order. */
function record<K extends keyof AmiClientEvents>(conn: AmiConnection, ...names: K[]) {
  const seen: { name: K; arg: AmiClientEvents[K][0] }[] = [];
  for (const name of names) {
    conn.on(name, ((arg: AmiClientEvents[K][0]) => seen.push({ name, arg })) as never);
  }
  return seen;
}

async function rejection(p: Promise<unknown>): Promise<AmiActionError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(AmiActionError);
    return err as AmiActionError;
  }
  throw new Error('expected a rejection');
}

let sim: AmiSimulator | undefined;
let conn: AmiConnection | undefined;

async function setUp(simOpts: Partial<AmiSimulatorOptions> = {}, connOpts: Partial<AmiConnectionOptions> = {}) {
  sim = await startAmiSimulator({ username: 'bridge', secret: SECRET, ...simOpts });
  const log = captureLogger();
  conn = new AmiConnection({
    host: '127.0.0.1',
    port: sim.port,
    username: 'bridge',
    secret: SECRET,
    pingIntervalMs: 0,
    reconnect: { initialDelayMs: 50, maxDelayMs: 1000, factor: 2, jitter: 0 },
    connectTimeoutMs: 3000,
    logger: log.logger,
    ...connOpts,
  });
  return { sim, conn, log };
}

afterEach(async () => {
  await conn?.close();
  await sim?.close();
  conn = undefined;
  sim = undefined;
});

describe('AmiConnection login', () => {
  it('logs in with Events, then installs each filter, then reports connected with the banner', async () => {
    const { sim, conn } = await setUp({}, { filters: ['Event: Queue.*', 'Event: Hangup'] });
    const seen = record(conn, 'connected', 'fullyBooted');
    await conn.connect();
    expect(conn.isConnected).toBe(true);
    expect(sim.received.map((a) => a['Action'])).toEqual(['Login', 'Filter', 'Filter']);
    expect(sim.received[0]).toMatchObject({ Username: 'bridge', Secret: SECRET, Events: 'on' });
    expect(sim.received.slice(1).map((a) => [a['Operation'], a['Filter']])).toEqual([
      ['Add', 'Event: Queue.*'],
      ['Add', 'Event: Hangup'],
    ]);
    expect(seen.map((s) => s.name)).toEqual(['fullyBooted', 'connected']);
    expect(seen[1]?.arg).toEqual({ banner: 'Asterisk Call Manager/11.0.0', amiVersion: '11.0.0' });
  });

  it('goes on when Asterisk refuses a filter, and logs it', async () => {
    const { conn, log } = await setUp(
      {
        onAction: (a) => (a['Action'] === 'Filter' ? [{ Response: 'Error', Message: 'Permission denied' }] : undefined),
      },
      { filters: ['Event: Hangup'] },
    );
    await conn.connect();
    expect(conn.isConnected).toBe(true);
    expect(log.lines().some((l) => l['level'] === WARN && String(l['msg']).includes('filter'))).toBe(true);
  });

  it('rejects connect() with AUTH_FAILED on a wrong secret, retries only with growing backoff, and never logs the secret', async () => {
    const wrong = 'wrong-secret-4f9a1c';
    const { sim, conn, log } = await setUp({}, { secret: wrong, reconnect: { initialDelayMs: 100, factor: 2, jitter: 0 } });
    const seen = record(conn, 'authFailed', 'reconnecting', 'connected');
    const err = await rejection(conn.connect());
    expect(err.code).toBe('AUTH_FAILED');
    expect(err.message).toContain('Authentication failed');

    await waitFor(() => seen.filter((s) => s.name === 'reconnecting').length >= 3, "3 'reconnecting' emissions");
    const delays = seen.filter((s) => s.name === 'reconnecting').map((s) => (s.arg as { delayMs: number }).delayMs);
    expect(delays.slice(0, 3)).toEqual([100, 200, 400]);
    expect(seen.filter((s) => s.name === 'authFailed').length).toBeGreaterThanOrEqual(2);
    expect(seen.some((s) => s.name === 'connected')).toBe(false);
    // One login per attempt, and attempts only after each (growing) delay: no hammering.
    const logins = sim.received.filter((a) => a['Action'] === 'Login').length;
    expect(logins).toBeLessThanOrEqual(seen.filter((s) => s.name === 'reconnecting').length + 1);

    await conn.close();
    expect(log.lines().length).toBeGreaterThan(0);
    expect(log.text()).not.toContain(wrong);
    expect(`${err.message} ${JSON.stringify(err)} ${String(err.stack)}`).not.toContain(wrong);
    expect(JSON.stringify(seen)).not.toContain(wrong);
  });

  it('rejects connect() with CONNECT_FAILED when nothing listens, and keeps retrying', async () => {
    const { sim, conn } = await setUp();
    await sim.close();
    const seen = record(conn, 'reconnecting');
    expect((await rejection(conn.connect())).code).toBe('CONNECT_FAILED');
    await waitFor(() => seen.length >= 2, 'both answers');
  });
});

describe('AmiConnection actions', () => {
  it('matches concurrent answers to their actions by ActionID, whatever order they come in', async () => {
    const { conn } = await setUp({
      onAction: (a, session) => {
        if (a['Action'] !== 'Echo') return undefined;
        const delay = Number(a['Delay']);
        setTimeout(() => session.send({ Response: 'Success', ActionID: String(a['ActionID']), Value: String(a['Value']) }), delay);
        return [];
      },
    });
    await conn.connect();
    const values = ['a', 'b', 'c', 'd', 'e'];
    const answers = await Promise.all(values.map((v, i) => conn.action('Echo', { Value: v, Delay: (values.length - i) * 20 })));
    expect(answers.map((r) => r.response['Value'])).toEqual(values);
    const ids = answers.map((r) => field(r.response, 'ActionID'));
    expect(new Set(ids).size).toBe(values.length);
  });

  it('collects a QueueStatus EventList up to and including the Complete event', async () => {
    const trace = new AmiFramer().push(readFileSync(`${FIXTURES}queue_actions.ami`));
    const items = trace.flatMap((o) => (o.type === 'message' && o.message['ActionID'] === 'queue_actions-3' && o.message['Event'] ? [o.message] : []));
    const strip = (m: AmiMessage) => Object.fromEntries(Object.entries(m).filter(([k]) => k !== 'ActionID'));
    const queueState = {
      params: items.filter((m) => m['Event'] === 'QueueParams').map(strip),
      members: items.filter((m) => m['Event'] === 'QueueMember').map(strip),
    };
    const { conn } = await setUp({ queueState });
    const events: AmiMessage[] = [];
    conn.on('event', (e) => events.push(e));
    await conn.connect();
    const result = await conn.action('QueueStatus', { Queue: 'support' });
    expect(result.response).toMatchObject({ Response: 'Success', EventList: 'start', Message: 'Queue status will follow' });
    expect(result.events.map((e) => e['Event'])).toEqual(['QueueParams', 'QueueMember', 'QueueMember', 'QueueMember', 'QueueStatusComplete']);
    expect(result.events.at(-1)).toMatchObject({ EventList: 'Complete', ListItems: '4' });
    expect(events.some((e) => e['Event'] === 'QueueMember' || e['Event'] === 'QueueStatusComplete')).toBe(false);
  });

  it('ends a list on "EventList: Cancelled" and compares the markers case-insensitively', async () => {
    const { conn } = await setUp({
      onAction: (a): AmiMessage[] | undefined => {
        if (a['Action'] !== 'Lister') return undefined;
        const id = String(a['ActionID']);
        return [
          { Response: 'Success', EventList: 'START', Message: 'Items will follow' },
          { Event: 'Item', ActionID: id, N: '1' },
          { Event: 'ListerComplete', ActionID: id, EventList: 'cancelled', ListItems: '1' },
        ];
      },
    });
    await conn.connect();
    const result = await conn.action('Lister');
    expect(result.events.map((e) => e['Event'])).toEqual(['Item', 'ListerComplete']);
  });

  it('rejects Response: Error with ACTION_FAILED carrying Asterisk\'s message', async () => {
    const { conn } = await setUp({ queueState: { params: [{ Event: 'QueueParams', Queue: 'support' }], members: [] } });
    await conn.connect();
    const err = await rejection(conn.action('QueuePause', { Interface: 'Local/999@agents/n', Paused: true }));
    expect(err.code).toBe('ACTION_FAILED');
    expect(err.message).toContain('Interface not found');
    expect(err.response?.['Message']).toBe('Interface not found');
  });

  it('rejects with TIMEOUT when no answer comes, forgets the action and keeps working', async () => {
    const { conn } = await setUp({ onAction: (a) => (a['Action'] === 'Silent' ? [] : undefined) });
    await conn.connect();
    const err = await rejection(conn.action('Silent', {}, { timeoutMs: 100 }));
    expect(err.code).toBe('TIMEOUT');
    expect((await conn.action('Ping')).response['Ping']).toBe('Pong');
  });

  it('refuses unsafe headers without writing anything', async () => {
    const { sim, conn } = await setUp();
    await conn.connect();
    const before = sim.received.length;
    expect((await rejection(conn.action('QueuePause', { Interface: 'x\r\nAction: Originate' }))).code).toBe('UNSAFE_HEADER');
    await conn.action('Ping');
    expect(sim.received.slice(before).map((a) => a['Action'])).toEqual(['Ping']);
  });

  it('rejects pending actions with DISCONNECTED when the socket drops, and new ones at once while down', async () => {
    const { sim, conn } = await setUp(
      { onAction: (a) => (a['Action'] === 'Silent' ? [] : undefined) },
      { reconnect: { initialDelayMs: 5000, jitter: 0 } },
    );
    await conn.connect();
    const pending = conn.action('Silent', {}, { timeoutMs: 5000 });
    await sim.waitForAction('Silent');
    sim.dropConnections();
    expect((await rejection(pending)).code).toBe('DISCONNECTED');
    expect(conn.isConnected).toBe(false);
    expect((await rejection(conn.action('Ping'))).code).toBe('DISCONNECTED');
  });

  it('sends Logoff on close, then stays down', async () => {
    const { sim, conn } = await setUp();
    await conn.connect();
    await conn.close();
    expect(sim.received.at(-1)?.['Action']).toBe('Logoff');
    expect((await rejection(conn.action('Ping'))).code).toBe('DISCONNECTED');
    await sleep(150);
    expect(sim.received.filter((a) => a['Action'] === 'Login')).toHaveLength(1);
  });
});

describe('AmiConnection staying connected', () => {
  it('reconnects after the server drops it: backoff, fresh login and filters, connected again', async () => {
    const { sim, conn } = await setUp({}, { filters: ['Event: Hangup'], reconnect: { initialDelayMs: 80, jitter: 0 } });
    const seen = record(conn, 'connected', 'disconnected', 'reconnecting');
    await conn.connect();
    sim.dropConnections();
    await waitFor(() => seen.filter((s) => s.name === 'connected').length === 2, "2 'connected' emissions");
    expect(seen.map((s) => s.name)).toEqual(['connected', 'disconnected', 'reconnecting', 'connected']);
    expect(seen[2]?.arg).toEqual({ attempt: 1, delayMs: 80 });
    expect(sim.received.map((a) => a['Action'])).toEqual(['Login', 'Filter', 'Login', 'Filter']);
    expect((await conn.action('Ping')).response['Ping']).toBe('Pong');
  });

  it('drops and reconnects when Pong stops coming (a hung Asterisk)', async () => {
    const { sim, conn } = await setUp({}, { pingIntervalMs: 50, pingTimeoutMs: 150 });
    const seen = record(conn, 'connected', 'disconnected');
    await conn.connect();
    await sim.waitForAction('Ping');
    sim.setAnswerPings(false);
    const dropped = await waitFor(() => seen.find((s) => s.name === 'disconnected'), "the 'disconnected' emission");
    expect(dropped.arg).toEqual({ reason: 'ping timeout' });
    sim.setAnswerPings(true);
    await waitFor(() => seen.filter((s) => s.name === 'connected').length >= 2, "2 'connected' emissions");
    expect(sim.received.filter((a) => a['Action'] === 'Login').length).toBeGreaterThanOrEqual(2);
  });

  it('reports asteriskRestarted when FullyBooted shows a lower Uptime, and not on a plain reconnect', async () => {
    const { sim, conn } = await setUp({ uptimeSeconds: 5000 });
    const seen = record(conn, 'connected', 'asteriskRestarted');
    await conn.connect();
    sim.dropConnections();
    await waitFor(() => seen.filter((s) => s.name === 'connected').length === 2, "2 'connected' emissions");
    expect(seen.some((s) => s.name === 'asteriskRestarted')).toBe(false);
    sim.simulateRestart();
    const restarted = await waitFor(() => seen.find((s) => s.name === 'asteriskRestarted'), "the 'asteriskRestarted' emission");
    expect((restarted.arg as { uptime: number }).uptime).toBeLessThan(5000);
  });

  it('reports asteriskRestarted after a crash found hours later, when the new Uptime exceeds the one at our last login', async () => {
    let offsetMs = 0;
    const { sim, conn } = await setUp({ uptimeSeconds: 10 }, { clock: () => Date.now() + offsetMs });
    const seen = record(conn, 'connected', 'fullyBooted', 'asteriskRestarted');
    await conn.connect();
    await waitFor(() => seen.find((s) => s.name === 'fullyBooted'), "the 'fullyBooted' emission");
    // Two hours connected; then Asterisk crashes (no Shutdown event) and is back with 30 minutes of uptime.
    offsetMs = 2 * 3600_000;
    sim.simulateRestart(1800);
    const restarted = await waitFor(() => seen.find((s) => s.name === 'asteriskRestarted'), "the 'asteriskRestarted' emission");
    expect((restarted.arg as { uptime: number }).uptime).toBeGreaterThanOrEqual(1800);
    // A plain reconnect after that is the same boot.
    await waitFor(() => seen.filter((s) => s.name === 'connected').length === 2, "2 'connected' emissions");
    sim.dropConnections();
    await waitFor(() => seen.filter((s) => s.name === 'connected').length === 3, "3 'connected' emissions");
    expect(seen.filter((s) => s.name === 'asteriskRestarted')).toHaveLength(1);
  });

  it('reports asteriskRestarted after a Shutdown event even if Uptime looks higher', async () => {
    const { sim, conn } = await setUp({ uptimeSeconds: 10 });
    const seen = record(conn, 'event', 'asteriskRestarted');
    await conn.connect();
    sim.emitEvent({ Event: 'Shutdown', Privilege: 'system,all', Shutdown: 'Cleanly', Restart: 'True' });
    await waitFor(() => seen.find((s) => s.name === 'event' && (s.arg as AmiMessage)['Event'] === 'Shutdown'), 'the Shutdown event');
    sim.dropConnections();
    await waitFor(() => seen.find((s) => s.name === 'asteriskRestarted'), "the 'asteriskRestarted' emission");
  });

  it('emits framingError for a broken frame and still delivers the events after it', async () => {
    const { sim, conn, log } = await setUp();
    const seen = record(conn, 'framingError', 'event');
    await conn.connect();
    sim.sendRaw('Event: Broken\r\nthis line has no colon\r\nMore: x\r\n\r\n');
    sim.sendRaw(`Event: Huge\r\nData: ${'z'.repeat(40_000)}\r\n\r\n`);
    sim.emitEvent({ Event: 'After', N: '1' });
    await waitFor(() => seen.find((s) => s.name === 'event' && (s.arg as AmiMessage)['Event'] === 'After'), 'the After event');
    const errors = seen.filter((s) => s.name === 'framingError').map((s) => (s.arg as { code: string }).code);
    expect(errors).toEqual(['MALFORMED_LINE', 'LINE_TOO_LONG']);
    expect(seen.some((s) => s.name === 'event' && ['Broken', 'Huge'].includes(String((s.arg as AmiMessage)['Event'])))).toBe(false);
    expect(log.lines().filter((l) => l['level'] === WARN)).toHaveLength(2);
    expect(conn.isConnected).toBe(true);
  });

  it('keeps reading when an event listener throws', async () => {
    const { sim, conn } = await setUp();
    const names: string[] = [];
    conn.on('event', (e) => {
      names.push(String(e['Event']));
      if (e['Event'] === 'Boom') throw new Error('listener bug');
    });
    await conn.connect();
    sim.emitEvent({ Event: 'Boom' });
    sim.emitEvent({ Event: 'After' });
    await waitFor(() => names.includes('After'), 'the After event');
  });

  it('delivers every event of a replayed trace, in order (1476 events of ringback_fixed_penalty)', async () => {
    const trace = readFileSync(`${FIXTURES}ringback_fixed_penalty.ami`);
    // Independent count with the framer: Event messages after the login response, minus the recorder's
    // handshake FullyBooted and the list items answering the recorder's own actions (ActionID, no Privilege).
    const all = new AmiFramer().push(trace).flatMap((o) => (o.type === 'message' ? [o.message] : []));
    const afterLogin = all.slice(all.findIndex((m) => m['Response'] !== undefined) + 1);
    const eventsAfterLogin = afterLogin.filter((m) => m['Event'] !== undefined);
    const handshake = afterLogin[0]?.['Event'] === 'FullyBooted' ? 1 : 0;
    const recorderListItems = eventsAfterLogin.filter((m) => m['ActionID'] !== undefined && m['Privilege'] === undefined).length;
    const expectedCount = eventsAfterLogin.length - handshake - recorderListItems;
    expect(expectedCount).toBe(1476);

    const { conn } = await setUp({ trace });
    const events: AmiMessage[] = [];
    conn.on('event', (e) => events.push(e));
    await conn.connect();
    const fromTrace = () => events.slice(1); // [0] is the simulator's own FullyBooted
    await waitFor(() => fromTrace().length >= expectedCount, 'every event of the trace');
    await sleep(50);
    expect(events[0]?.['Event']).toBe('FullyBooted');
    expect(fromTrace()).toHaveLength(expectedCount);
    expect(fromTrace()).toEqual(traceEventsForReplay(trace));
  });
});
