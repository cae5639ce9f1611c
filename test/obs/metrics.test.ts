import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventEmitter } from 'node:events';
import { register as globalRegistry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBitrixClient } from '../../src/bitrix/client.js';
import { BitrixError } from '../../src/bitrix/errors.js';
import { acquire, LeakyBucket } from '../../src/bitrix/limiter.js';
import { Outbox } from '../../src/bitrix/outbox.js';
import { MemoryOutboxStore, type OutboxEntry, type ParkedEntry } from '../../src/bitrix/outbox-entry.js';
import { createMetrics, type RuntimeSnapshot } from '../../src/obs/metrics.js';
import type { RingBackMetrics } from '../../src/ringback/report.js';
import { silentLogger } from '../support/logger.js';
import { sleep } from '../support/wait.js';

const stats = (over: Partial<RuntimeSnapshot> = {}): RuntimeSnapshot => ({
  events: 0,
  cardsShown: 0,
  cardsHidden: 0,
  callsFinished: 0,
  unmappedExtensions: 0,
  poisonedCalls: 0,
  eventErrors: 0,
  evictedCalls: 0,
  evictedChannels: 0,
  ...over,
});

const entry = (seq: number, kind: OutboxEntry['kind'], over: Partial<OutboxEntry> = {}): OutboxEntry => ({
  seq,
  key: `1700000000.${seq}`,
  kind,
  method: kind === 'attach' ? 'telephony.externalCall.attachRecord' : `telephony.externalcall.${kind}`,
  params: {},
  needsCallId: kind !== 'register',
  attempts: 0,
  notBefore: 0,
  createdAt: 0,
  ...over,
});

const parkedOf = (e: OutboxEntry): ParkedEntry => ({ ...e, parkedAt: 1, error: 'ERROR_ARGUMENT: bad' });

/** The value of one sample line (`name{labels} value`) of a scrape, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('createMetrics', () => {
  it('mirrors the runtime stats and active calls on each scrape', async () => {
    const m = createMetrics({ processMetrics: false });
    let current = stats({ events: 120, cardsShown: 6, cardsHidden: 4, callsFinished: 3, unmappedExtensions: 1, poisonedCalls: 1, eventErrors: 2, evictedCalls: 3, evictedChannels: 5, activeCalls: 2 });
    m.observeRuntime(() => current);
    let text = await m.scrape();
    expect(sample(text, 'b24bridge_ami_events_total')).toBe(120);
    expect(sample(text, 'b24bridge_cards_total{action="shown"}')).toBe(6);
    expect(sample(text, 'b24bridge_cards_total{action="hidden"}')).toBe(4);
    expect(sample(text, 'b24bridge_calls_finished_total')).toBe(3);
    expect(sample(text, 'b24bridge_unmapped_extensions_total')).toBe(1);
    expect(sample(text, 'b24bridge_poisoned_calls_total')).toBe(1);
    expect(sample(text, 'b24bridge_ami_event_errors_total')).toBe(2);
    expect(sample(text, 'b24bridge_evicted_total{what="calls"}')).toBe(3);
    expect(sample(text, 'b24bridge_evicted_total{what="channels"}')).toBe(5);
    expect(sample(text, 'b24bridge_active_calls')).toBe(2);

    current = stats({ events: 150, cardsShown: 7, activeCalls: 0 });
    text = await m.scrape();
    expect(sample(text, 'b24bridge_ami_events_total')).toBe(150);
    expect(sample(text, 'b24bridge_cards_total{action="shown"}')).toBe(7);
    expect(sample(text, 'b24bridge_active_calls')).toBe(0);
  });

  it('counts Bitrix24 requests by method and status, their errors, durations and rate-limit waits', async () => {
    const m = createMetrics({ processMetrics: false, now: () => 1_700_000_000_000 });
    m.onRequest({ method: 'batch', status: 200, durationMs: 120, waitedMs: 0, batchSize: 3 });
    m.onRequest({ method: 'batch', status: 200, durationMs: 80, waitedMs: 500, batchSize: 1 });
    m.onRequest({ method: 'batch', status: 503, durationMs: 40, waitedMs: 250, errorCode: 'RATE_LIMITED' });
    m.onRequest({ method: 'user.get', status: 0, durationMs: 15000, waitedMs: 0, errorCode: 'NETWORK' });
    const text = await m.scrape();
    expect(sample(text, 'b24bridge_rest_requests_total{method="batch",status="200"}')).toBe(2);
    expect(sample(text, 'b24bridge_rest_requests_total{method="batch",status="503"}')).toBe(1);
    expect(sample(text, 'b24bridge_rest_requests_total{method="user.get",status="0"}')).toBe(1);
    expect(sample(text, 'b24bridge_rest_errors_total{method="batch",code="RATE_LIMITED"}')).toBe(1);
    expect(sample(text, 'b24bridge_rest_errors_total{method="user.get",code="NETWORK"}')).toBe(1);
    expect(sample(text, 'b24bridge_rest_request_duration_seconds_count{method="batch"}')).toBe(3);
    expect(sample(text, 'b24bridge_rest_request_duration_seconds_bucket{le="0.1",method="batch"}')).toBe(2);
    expect(sample(text, 'b24bridge_rate_limit_waits_total')).toBe(2);
    expect(sample(text, 'b24bridge_rate_limit_wait_seconds_total')).toBe(0.75);
    expect(sample(text, 'b24bridge_rest_last_success_timestamp_seconds')).toBe(1_700_000_000);
  });

  it('counts the waits of batches the outbox held back for the shared rate limiter (the client then finds its slot free)', async () => {
    const m = createMetrics({ processMetrics: false });
    // 20 requests/s, no burst: every batch after the first waits about 50 ms for its slot.
    const bucket = new LeakyBucket({ perSecond: 20, burst: 1, safety: 0 });
    const client = {
      call: async () => undefined as never,
      batch: async (cmds: Array<{ key: string; method: string }>) => {
        // What the real client does first: take a slot, waiting if needed (it waits 0 here, the outbox waited).
        m.onRequest({ method: 'batch', status: 200, durationMs: 1, waitedMs: await acquire(bucket, sleep) });
        return { results: Object.fromEntries(cmds.map((c) => [c.key, c.method.endsWith('register') ? { CALL_ID: `externalCall.${c.key}` } : true])), errors: {} };
      },
    };
    const outbox = new Outbox({ client, store: new MemoryOutboxStore(), clock: Date.now, limiterDelay: () => bucket.waitMs(), logger: silentLogger, lingerMs: 0, maxBatch: 1, concurrency: 1, hooks: m.outboxHooks() });
    for (const k of ['L1', 'L2', 'L3']) outbox.enqueue(k, 'register', 'telephony.externalcall.register', {}, false);
    expect(await outbox.drain(5000)).toBe(true);
    outbox.stop();
    const text = await m.scrape();
    expect(sample(text, 'b24bridge_rate_limit_waits_total')).toBe(2);
    expect(sample(text, 'b24bridge_rate_limit_wait_seconds_total')).toBeGreaterThan(0.08);
  });

  it('reads outbox depth, oldest age and parked count on scrape and counts outbox hook calls', async () => {
    const m = createMetrics({ processMetrics: false });
    const view = { depth: 0, oldest: undefined as number | undefined, parked: [] as unknown[] };
    m.bindOutbox({ get depth() { return view.depth; }, oldestCreatedAt: () => view.oldest, parkedEntries: () => view.parked }, () => 100_000);
    let text = await m.scrape();
    expect(sample(text, 'b24bridge_outbox_depth')).toBe(0);
    expect(sample(text, 'b24bridge_outbox_oldest_age_seconds')).toBe(0);

    Object.assign(view, { depth: 4, oldest: 40_000, parked: [{}] });
    const hooks = m.outboxHooks();
    hooks.onBatch?.(3);
    hooks.onBatch?.(45);
    hooks.onDelivered?.(entry(1, 'register'), { CALL_ID: 'x' });
    hooks.onDelivered?.(entry(2, 'show'), true);
    hooks.onParked?.(parkedOf(entry(3, 'finish')));
    hooks.onRetry?.(entry(4, 'hide'), new BitrixError({ kind: 'retryable', errorCode: 'NETWORK', code: 'NETWORK', description: 'reset', method: 'batch' }));
    text = await m.scrape();
    expect(sample(text, 'b24bridge_outbox_depth')).toBe(4);
    expect(sample(text, 'b24bridge_outbox_oldest_age_seconds')).toBe(60);
    expect(sample(text, 'b24bridge_outbox_parked')).toBe(1);
    expect(sample(text, 'b24bridge_outbox_batch_size_count')).toBe(2);
    expect(sample(text, 'b24bridge_outbox_batch_size_bucket{le="5"}')).toBe(1);
    expect(sample(text, 'b24bridge_outbox_batch_size_sum')).toBe(48);
    expect(sample(text, 'b24bridge_outbox_delivered_total{kind="register"}')).toBe(1);
    expect(sample(text, 'b24bridge_outbox_delivered_total{kind="show"}')).toBe(1);
    expect(sample(text, 'b24bridge_outbox_parked_total{kind="finish"}')).toBe(1);
    expect(sample(text, 'b24bridge_outbox_retries_total{kind="hide",code="NETWORK"}')).toBe(1);
  });

  it('tracks AMI connection state, disconnects, framing errors and Asterisk restarts', async () => {
    const m = createMetrics({ processMetrics: false });
    const ami = Object.assign(new EventEmitter(), { isConnected: true });
    m.bindAmi(ami);
    expect(sample(await m.scrape(), 'b24bridge_ami_connected')).toBe(1);
    ami.isConnected = false;
    ami.emit('disconnected', { reason: 'socket closed' });
    ami.emit('framingError', { type: 'error' });
    ami.emit('asteriskRestarted', { uptime: 3 });
    const text = await m.scrape();
    expect(sample(text, 'b24bridge_ami_connected')).toBe(0);
    expect(sample(text, 'b24bridge_ami_disconnects_total')).toBe(1);
    expect(sample(text, 'b24bridge_ami_framing_errors_total')).toBe(1);
    expect(sample(text, 'b24bridge_asterisk_restarts_total')).toBe(1);
  });

  it('counts recordings waiting in the outbox store, including those reloaded after a restart', async () => {
    const m = createMetrics({ processMetrics: false });
    const inner = new MemoryOutboxStore();
    inner.put(entry(1, 'attach'));
    inner.put(entry(2, 'finish'));
    const store = m.recordings.trackStore(inner);
    store.load();
    expect(sample(await m.scrape(), 'b24bridge_recordings_pending')).toBe(1);

    store.put(entry(3, 'attach'));
    store.put(entry(3, 'attach', { attempts: 1 }));
    store.put(entry(4, 'attach'));
    expect(sample(await m.scrape(), 'b24bridge_recordings_pending')).toBe(3);
    store.delete(1);
    store.park(parkedOf(entry(4, 'attach')));
    expect(sample(await m.scrape(), 'b24bridge_recordings_pending')).toBe(1);

    // Everything else reaches the real store untouched.
    store.setCallId('k', 'externalCall.1');
    expect(inner.load().callIds).toEqual([['k', 'externalCall.1']]);
    expect(inner.load().entries.map((e) => e.seq).sort()).toEqual([2, 3]);
    expect(store.unpark(4)?.seq).toBe(4);
  });

  it('counts attached and failed recordings by format and reason', async () => {
    const m = createMetrics({ processMetrics: false });
    const hooks = m.recordings.hooks();
    hooks.onAttached?.({ linkedid: '1.1', callId: 'c', format: 'mp3', mode: 'base64', bytes: 10 });
    hooks.onFailed?.('corrupt');
    hooks.onMissing?.();
    hooks.onEmpty?.();
    m.outboxHooks().onParked?.(parkedOf(entry(9, 'attach')));
    const text = await m.scrape();
    expect(sample(text, 'b24bridge_recordings_attached_total{format="mp3"}')).toBe(1);
    for (const reason of ['corrupt', 'missing', 'empty', 'parked']) expect(sample(text, `b24bridge_recordings_failed_total{reason="${reason}"}`)).toBe(1);
  });

  it('counts ring-back changes by event, queue, policy and cause and reports members set aside', async () => {
    const m = createMetrics({ processMetrics: false });
    const ringback: RingBackMetrics = m.ringback;
    ringback.record('applied', { queue: 'sales', policy: 'pause', cause: 'noAnswer' });
    ringback.record('applied', { queue: 'sales', policy: 'pause', cause: 'noAnswer' });
    ringback.record('undone', { queue: 'sales', policy: 'pause', cause: 'cooldownOver' });
    m.ringback.observeSetAside(() => 1);
    const text = await m.scrape();
    expect(sample(text, 'b24bridge_ringback_changes_total{event="applied",queue="sales",policy="pause",cause="noAnswer"}')).toBe(2);
    expect(sample(text, 'b24bridge_ringback_changes_total{event="undone",queue="sales",policy="pause",cause="cooldownOver"}')).toBe(1);
    expect(sample(text, 'b24bridge_ringback_members_set_aside')).toBe(1);
  });

  it('gives every daemon its own registry and leaves the global one alone', async () => {
    const a = createMetrics({ processMetrics: false });
    const b = createMetrics({ processMetrics: false });
    a.onRequest({ method: 'batch', status: 200, durationMs: 1, waitedMs: 0 });
    expect(sample(await a.scrape(), 'b24bridge_rest_requests_total{method="batch",status="200"}')).toBe(1);
    expect(sample(await b.scrape(), 'b24bridge_rest_requests_total{method="batch",status="200"}')).toBeUndefined();
    expect(await globalRegistry.metrics()).not.toContain('b24bridge_');
  });

  it('adds process and Node.js metrics under the same prefix unless told not to', async () => {
    const text = await createMetrics().scrape();
    expect(text).toContain('b24bridge_process_cpu_seconds_total');
    expect(text).toContain('b24bridge_nodejs_eventloop_lag_seconds');
    expect(await createMetrics({ processMetrics: false }).scrape()).not.toContain('process_cpu');
  });

  it('documents every metric with HELP and TYPE lines and uses only the b24bridge_ prefix', async () => {
    const text = await createMetrics({ processMetrics: false }).scrape();
    const names = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThanOrEqual(25);
    for (const name of names) {
      expect(name).toMatch(/^b24bridge_[a-z_]+$/);
      expect(text).toContain(`# HELP ${name} `);
    }
  });
});

describe('metrics fed by the real Bitrix24 client', () => {
  const CODE = 'zx81secretcode99';
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      res.writeHead(req.url?.endsWith('/user.get') ? 400 : 200, { 'content-type': 'application/json' });
      res.end(req.url?.endsWith('/user.get') ? JSON.stringify({ error: 'ERROR_CORE', error_description: `failed at ${req.url}` }) : JSON.stringify({ result: { CALL_ID: 'externalCall.1' } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('labels requests by method and never exposes the webhook URL or its code', async () => {
    const m = createMetrics({ processMetrics: false });
    const client = createBitrixClient({
      webhookUrl: `http://127.0.0.1:${port}/rest/1/${CODE}/`,
      limiter: new LeakyBucket({ perSecond: 50, burst: 50 }),
      onRequest: (info) => m.onRequest(info),
    });
    await client.call('telephony.externalcall.register', { USER_ID: 1 });
    await client.call('user.get').catch(() => undefined);
    const text = await m.scrape();
    expect(sample(text, 'b24bridge_rest_requests_total{method="telephony.externalcall.register",status="200"}')).toBe(1);
    expect(sample(text, 'b24bridge_rest_requests_total{method="user.get",status="400"}')).toBe(1);
    expect(text).not.toContain(CODE);
    expect(text).not.toContain('/rest/');
    expect(text).not.toContain(String(port));
  });
});
