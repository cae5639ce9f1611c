import type { RuntimeStats } from '../daemon/runtime.js';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RequestInfo } from '../bitrix/client.js';
import type { OutboxStore } from '../bitrix/outbox-entry.js';
import type { OutboxHooks } from '../bitrix/outbox.js';
import type { RecordingHooks } from '../recordings/pipeline.js';
import type { RingBackMetrics } from '../ringback/report.js';
import { createTranscriptMetrics } from './transcript-metrics.js';

/**
 * Prometheus metrics of one daemon: a Registry of its own (never prom-client's global one, so two daemons in one
 * test process do not share counters) and small adapters that plug into the hooks the parts already expose.
 *
 * Where a part already counts something (RuntimeStats, outbox depth, the tracker's active calls) the value is read
 * on scrape instead of being counted twice. Labels hold only bounded, non-secret values: Bitrix24 method names,
 * HTTP statuses, error codes, entry kinds; never URLs, phone numbers or Linkedids.
 */

/** The runtime's counters plus the tracker's live call count. */
export interface RuntimeSnapshot extends RuntimeStats {
  activeCalls?: number;
}

/** What is read from the Outbox on scrape. */
export interface OutboxView {
  readonly depth: number;
  oldestCreatedAt(): number | undefined;
  parkedEntries(): readonly unknown[];
}

/** What is read from the AMI connection. */
export interface AmiView {
  readonly isConnected: boolean;
  on(event: 'disconnected', listener: (info: { reason: string }) => void): unknown;
  on(event: 'framingError', listener: (err: unknown) => void): unknown;
  on(event: 'asteriskRestarted', listener: (info: { uptime: number }) => void): unknown;
}

export interface MetricsOptions {
  /** process_* and nodejs_* (CPU, memory, event loop lag, GC); off in tests that compare whole scrapes. */
  processMetrics?: boolean;
  /** Wall clock (ms) for the last-success timestamp. */
  now?: () => number;
}

export type Metrics = ReturnType<typeof createMetrics>;

const PREFIX = 'b24bridge_';

export function createMetrics(opts: MetricsOptions = {}) {
  const registry = new Registry();
  const registers = [registry];
  const now = opts.now ?? Date.now;
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: PREFIX });

  let runtime: (() => RuntimeSnapshot) | undefined;
  let outbox: { view: OutboxView; clock: () => number } | undefined;
  let ami: AmiView | undefined;
  let setAside: (() => number) | undefined;
  /** seq of every attach entry in the outbox store: the recordings still to be attached. */
  const pendingRecordings = new Set<number>();

  const counter = <L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Counter<L>({ name: PREFIX + name, help, labelNames, registers });
  /** A gauge read on scrape; undefined (its source not bound yet) leaves it at its last value (0 at first). */
  const gauge = (name: string, help: string, read: () => number | undefined) =>
    new Gauge({
      name: PREFIX + name,
      help,
      registers,
      collect() {
        const value = read();
        if (value !== undefined) this.set(value);
      },
    });
  /** A counter that mirrors a total the runtime keeps (reset then set on each scrape, never counted twice). */
  const mirror = (name: string, help: string, read: (s: RuntimeSnapshot) => Partial<Record<string, number>> | number, labelNames: readonly string[] = []) =>
    new Counter({
      name: PREFIX + name,
      help,
      labelNames,
      registers,
      collect() {
        if (!runtime) return;
        const value = read(runtime());
        this.reset();
        if (typeof value === 'number') this.inc(value);
        else for (const [label, n] of Object.entries(value)) this.inc({ [labelNames[0] ?? 'label']: label }, n ?? 0);
      },
    });

  mirror('ami_events_total', 'AMI events received (rate() gives events per second).', (s) => s.events);
  mirror('ami_event_errors_total', 'AMI events that could not be read or that the core failed on (skipped).', (s) => s.eventErrors);
  mirror('calls_finished_total', 'Calls finished in Bitrix24 (telephony.externalcall.finish queued).', (s) => s.callsFinished);
  mirror('unmapped_extensions_total', 'Ringing extensions that map to no Bitrix24 user (no card shown to them).', (s) => s.unmappedExtensions);
  mirror('poisoned_calls_total', 'Calls dropped because their events broke the call state machine.', (s) => s.poisonedCalls);
  mirror('evicted_total', 'Calls and channels the core stopped tracking at its limits (a flood of AMI events for channels that never hang up).', (s) => ({ calls: s.evictedCalls, channels: s.evictedChannels }), ['what']);
  mirror('cards_total', 'Call cards shown or hidden, per user.', (s) => ({ shown: s.cardsShown, hidden: s.cardsHidden }), ['action']);
  gauge('active_calls', 'Calls being tracked right now.', () => runtime?.().activeCalls);

  gauge('ami_connected', '1 while logged in to the Asterisk manager interface.', () => (ami ? Number(ami.isConnected) : undefined));
  const amiDisconnects = counter('ami_disconnects_total', 'AMI connections lost.');
  const amiFramingErrors = counter('ami_framing_errors_total', 'Unreadable AMI frames skipped.');
  const asteriskRestarts = counter('asterisk_restarts_total', 'Asterisk restarts noticed (Shutdown, or a later boot time in FullyBooted).');

  const restRequests = counter('rest_requests_total', 'Bitrix24 REST requests by method and HTTP status (0: no response).', ['method', 'status']);
  const restErrors = counter('rest_errors_total', 'Failed Bitrix24 REST requests by method and error code.', ['method', 'code']);
  const restDuration = new Histogram({
    name: `${PREFIX}rest_request_duration_seconds`,
    help: 'Bitrix24 REST request time, without the rate-limit wait.',
    labelNames: ['method'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 30],
    registers,
  });
  const lastSuccess = new Gauge({ name: `${PREFIX}rest_last_success_timestamp_seconds`, help: 'When the portal last answered a request successfully.', registers });
  const limiterWaits = counter('rate_limit_waits_total', 'Requests that waited for the local rate limiter.');
  const limiterWaited = counter('rate_limit_wait_seconds_total', 'Time spent waiting for the local rate limiter.');
  const limiterWait = (ms: number): void => {
    if (ms <= 0) return;
    limiterWaits.inc();
    limiterWaited.inc(ms / 1000);
  };

  const batchSize = new Histogram({ name: `${PREFIX}outbox_batch_size`, help: 'Commands per Bitrix24 batch request.', buckets: [1, 2, 3, 5, 10, 20, 30, 40, 50], registers });
  gauge('outbox_depth', 'Bitrix24 commands waiting to be delivered (not parked).', () => outbox?.view.depth);
  gauge('outbox_oldest_age_seconds', 'Age of the oldest waiting command (0 when none): grows while the portal is unreachable.', () => {
    if (!outbox) return undefined;
    const oldest = outbox.view.oldestCreatedAt();
    return oldest === undefined ? 0 : Math.max(0, (outbox.clock() - oldest) / 1000);
  });
  gauge('outbox_parked', 'Commands parked after a contract error (need an admin).', () => outbox?.view.parkedEntries().length);
  const delivered = counter('outbox_delivered_total', 'Commands delivered, by kind.', ['kind']);
  const parked = counter('outbox_parked_total', 'Commands parked, by kind.', ['kind']);
  const retries = counter('outbox_retries_total', 'Command retries, by kind and error code.', ['kind', 'code']);
  const dropped = counter('outbox_dropped_total', 'Commands dropped at a bound (outbox full, too many parked), by kind.', ['kind']);

  gauge('recordings_pending', 'Recordings waiting to be attached (counted from the outbox store, restarts included).', () => pendingRecordings.size);
  const recAttached = counter('recordings_attached_total', 'Recordings attached, by format.', ['format']);
  const recFailed = counter('recordings_failed_total', 'Recordings that failed on the way, by reason (missing, empty, unreadable, corrupt, parked: not attached; growing: a partial copy may still be).', ['reason']);

  const ringback = counter('ringback_changes_total', 'Ring-back fix: queue member pauses/penalties applied, undone, failed... by queue, policy and cause.', [
    'event',
    'queue',
    'policy',
    'cause',
  ]);
  const transcripts = createTranscriptMetrics(registers, PREFIX);
  gauge('ringback_members_set_aside', 'Queue members currently paused or penalized by the ring-back fix.', () => setAside?.());

  return {
    registry,
    contentType: registry.contentType,
    /** The text exposition (what GET /metrics returns). */
    scrape: (): Promise<string> => registry.metrics(),

    /** Bitrix client `onRequest`. */
    onRequest(info: RequestInfo): void {
      restRequests.inc({ method: info.method, status: String(info.status) });
      restDuration.observe({ method: info.method }, info.durationMs / 1000);
      if (info.errorCode !== undefined) restErrors.inc({ method: info.method, code: info.errorCode });
      else lastSuccess.set(now() / 1000);
      limiterWait(info.waitedMs);
    },

    /** Waits for the local rate limiter outside the client: the outbox's batches, the recordings' uploads. */
    onLimiterWait: (waitedMs: number): void => limiterWait(waitedMs),

    /** Outbox `hooks`. Batch sizes come from here: the outbox is the only batcher. */
    outboxHooks(): OutboxHooks {
      return {
        onBatch: (size) => batchSize.observe(size),
        onDelivered: (entry) => {
          delivered.inc({ kind: entry.kind });
          if (entry.kind === 'transcript') transcripts.outcome('attached');
        },
        onParked: (entry) => {
          parked.inc({ kind: entry.kind });
          if (entry.kind === 'attach') recFailed.inc({ reason: 'parked' });
          if (entry.kind === 'transcript') transcripts.outcome('parked');
        },
        onRetry: (entry, error) => retries.inc({ kind: entry.kind, code: error.errorCode }),
        onDropped: (kind) => dropped.inc({ kind }),
        onLimiterWait: (ms) => limiterWait(ms),
      };
    },

    /** Depth, oldest age and parked count are read from the outbox on each scrape. */
    bindOutbox(view: OutboxView, clock: () => number = Date.now): void {
      outbox = { view, clock };
    },

    /** `() => ({ ...runtime.stats, activeCalls: tracker.activeCalls })`, read on each scrape. */
    observeRuntime(read: () => RuntimeSnapshot): void {
      runtime = read;
    },

    bindAmi(connection: AmiView): void {
      ami = connection;
      connection.on('disconnected', () => amiDisconnects.inc());
      connection.on('framingError', () => amiFramingErrors.inc());
      connection.on('asteriskRestarted', () => asteriskRestarts.inc());
    },

    recordings: {
      /** Recording pipeline `hooks`. */
      hooks(): RecordingHooks {
        return {
          onAttached: (info) => recAttached.inc({ format: info.format }),
          onFailed: (reason) => recFailed.inc({ reason }),
          onMissing: () => recFailed.inc({ reason: 'missing' }),
          onEmpty: () => recFailed.inc({ reason: 'empty' }),
        };
      },
      /**
       * Wraps the outbox store to count attach entries in it: the store is the one place that sees them
       * enqueued, finished and reloaded after a restart. Every other member passes through to the store itself.
       */
      trackStore<S extends OutboxStore>(store: S): S {
        const watched: Partial<OutboxStore> = {
          load: () => {
            const saved = store.load();
            for (const e of saved.entries) if (e.kind === 'attach') pendingRecordings.add(e.seq);
            return saved;
          },
          put: (entry) => {
            if (entry.kind === 'attach') pendingRecordings.add(entry.seq);
            store.put(entry);
          },
          delete: (seq) => {
            pendingRecordings.delete(seq);
            store.delete(seq);
          },
          park: (entry) => {
            pendingRecordings.delete(entry.seq);
            store.park(entry);
          },
        };
        return new Proxy(store, {
          get(target, prop) {
            if (typeof prop === 'string' && prop in watched) return watched[prop as keyof OutboxStore];
            // The target as receiver and bound methods: class private fields keep working behind the proxy.
            const value: unknown = Reflect.get(target, prop, target);
            return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
          },
        });
      },
    },

    /** Transcripts' hooks (src/obs/transcript-metrics.ts). */
    transcripts,

    ringback: {
      /** RingBackService `metrics`: one call per change applied, undone, failed, forgotten, adopted or uncertain. */
      record: ((event, labels) => ringback.inc({ event, queue: labels.queue, policy: labels.policy, cause: labels.cause })) satisfies RingBackMetrics['record'],
      observeSetAside(read: () => number): void {
        setAside = read;
      },
    },
  };
}
