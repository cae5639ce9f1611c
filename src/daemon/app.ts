import { AmiConnection } from '../ami/connection.js';
import type { AmiClient } from '../ami/client.js';
import { eventFilters } from '../ami/filters.js';
import { createBitrixClient, type BitrixClient } from '../bitrix/client.js';
import type { CommandOptions } from '../bitrix/commands.js';
import { acquire, LeakyBucket } from '../bitrix/limiter.js';
import { setupRecordings } from '../recordings/setup.js';
import type { RecordingHooks } from '../recordings/pipeline.js';
import { FileRingBackStore } from '../ringback/store.js';
import type { Metrics } from '../obs/metrics.js';
import { metricsRoute } from '../obs/metrics-route.js';
import { startEndpoint, type Endpoint } from '../clicktocall/endpoint.js';
import { createAddressMatcher, restrictTo } from '../http/auth.js';
import { setupCrm, type Crm } from '../crm/setup.js';
import { RingBackService } from '../ringback/service.js';
import type { OutboxStore } from '../bitrix/outbox-entry.js';
import { Outbox, type AttachHandler } from '../bitrix/outbox.js';
import { ExtensionDirectory } from '../bitrix/user-directory.js';
import type { Config } from '../config/schema.js';
import { ChannelClassifier } from '../core/classify.js';
import type { Effect } from '../core/effects.js';
import { CallTracker } from '../core/tracker.js';
import { callLogger, type Logger } from '../obs/logger.js';
import { Runtime } from './runtime.js';
import { PortalHealth } from './portal-health.js';
import { liveChannels } from './resync.js';
import { ResyncRetry } from './resync-retry.js';
import { kvGet, kvSet, openStateDb, type StateDb } from '../store/db.js';
import { SqliteOutboxStore } from '../store/sqlite-outbox-store.js';
import type { TrackerSnapshot } from '../core/snapshot.js';

/**
 * Wiring: builds every part from the config, in dependency order, and stops them in reverse.
 * Dependencies are passed in; tests and the demo swap the edges (AMI, portal, clock).
 */

export interface BridgeDeps {
  logger: Logger;
  clock?: () => number;
  ami?: AmiClient;
  bitrix?: BitrixClient;
  /** Replaces the SQLite state (tests that need no disk). */
  store?: OutboxStore;
  attach?: AttachHandler;
  recordingHooks?: RecordingHooks;
  metrics?: Metrics;
  onEffect?: (effect: Effect) => void;
  /** First delay before a failed first user-map load is tried again (doubles up to a minute). */
  userMapRetryMs?: number;
}

export interface Bridge {
  runtime: Runtime;
  /** CRM features: lookups, blacklist, follow-ups, timeline. */
  crm: Crm;
  /** Bitrix24 events (click-to-call, callbacks), /healthz and /metrics; endpoint.server.port is the bound port. */
  endpoint: Endpoint;
  bitrix: BitrixClient;
  commands: CommandOptions;
  ringBack: RingBackService;
  health(): BridgeHealth;
  outbox: Outbox;
  ami: AmiClient;
  directory: ExtensionDirectory;
  tracker: CallTracker;
  /** SIGHUP: what can change live (user map, ring-back policy); the log level is the caller's. */
  reload(next: Config): void;
  /** Stop taking events, drain the outbox for at most drainMs, then close everything. */
  stop(drainMs?: number): Promise<void>;
}

export interface BridgeHealth {
  ami: boolean;
  portal: boolean;
  outboxDepth: number;
  parked: number;
  lastError?: string;
}

const SNAPSHOT_KEY = 'core.snapshot';
const PORTAL_PROBE_IDLE_MS = 60_000;

export async function startBridge(config: Config, deps: BridgeDeps): Promise<Bridge> {
  const clock = deps.clock ?? Date.now;
  const log = deps.logger;
  const m = deps.metrics;
  const portal = new PortalHealth(clock);
  const bucket = new LeakyBucket({ perSecond: config.bitrix.rateLimit.perSecond, burst: config.bitrix.rateLimit.burst }, clock);
  const bitrix =
    deps.bitrix ??
    createBitrixClient({
      webhookUrl: config.bitrix.webhookUrl,
      timeoutMs: config.bitrix.timeoutMs,
      limiter: bucket,
      logger: log.child({ part: 'bitrix' }),
      onRequest: (info) => {
        portal.observe(info);
        m?.onRequest(info);
      },
    });

  let lastError: string | undefined;
  const db: StateDb | undefined = deps.store ? undefined : openStateDb(config.state.dir);
  let storeFailing = false;
  const rawStore =
    deps.store ??
    new SqliteOutboxStore(db!, (err, op) => {
      // Disk full or read-only: keep serving from memory, say so once per failure streak.
      lastError = `state store ${op}: ${err.message}`;
      if (!storeFailing) log.error({ err, op, dir: config.state.dir }, 'state store write failed; continuing from memory (restart safety lost until it recovers)');
      storeFailing = true;
    });
  // Counts recordings waiting to be attached, also those a previous run left (it wraps load()).
  const store = m ? m.recordings.trackStore(rawStore) : rawStore;

  const recordingVariables = [...new Set(['MIXMONITOR_FILENAME', config.recordings.pathVariable])];
  const recordingHooks = deps.recordingHooks ?? m?.recordings.hooks();
  const recordings = deps.attach
    ? undefined
    : await setupRecordings({
        config: config.recordings,
        stateDir: config.state.dir,
        // Recordings still waiting keep the MP3 an earlier run prepared; the work dir loses everything else.
        pendingAttachments: () => rawStore.load().entries.filter((e) => e.kind === 'attach'),
        ...(config.asterisk.ari ? { ari: config.asterisk.ari } : {}),
        client: bitrix,
        // Uploads are HTTP requests to the portal too: they take a slot of the same leaky bucket.
        beforeRequest: async () => {
          m?.onLimiterWait(await acquire(bucket, (ms) => new Promise((r) => setTimeout(r, ms))));
        },
        logger: log.child({ part: 'recordings' }),
        ...(recordingHooks ? { hooks: recordingHooks } : {}),
      });
  const attach = deps.attach ?? recordings?.attach;

  const directory = new ExtensionDirectory(config.users.extensions);
  const classifier = new ChannelClassifier({ contexts: config.asterisk.contexts, extensionPattern: config.asterisk.extensionPattern });
  const tracker = new CallTracker({
    recordingVariables,
    classifier,
    defaultUserId: config.bitrix.defaultUserId,
    crmCreate: config.bitrix.crmCreate,
    defaultLineNumber: config.bitrix.defaultLineNumber,
    showCards: config.bitrix.showCards,
  });
  const commandOptions: CommandOptions = { addToChat: config.bitrix.addToChat };
  const coreLog = log.child({ part: 'core' });
  // The outbox tells the CRM features about register answers, and they enqueue through it: bound once both exist.
  let crmHook: Crm['onDelivered'] | undefined;
  const mh = m?.outboxHooks();
  const outbox = new Outbox({
    client: bitrix,
    store,
    clock,
    limiterDelay: () => bucket.waitMs(),
    logger: log.child({ part: 'outbox' }),
    concurrency: config.outbox.concurrency,
    attachConcurrency: config.outbox.attachConcurrency,
    maxEntries: config.outbox.maxEntries,
    maxRetryDelayMs: config.outbox.maxRetryDelayMs,
    ...(attach ? { attach } : {}),
    hooks: {
      onBatch: (n) => mh?.onBatch?.(n),
      onDelivered: (e, r) => {
        // The line that ties Asterisk's linkedid to Bitrix24's CALL_ID in the journal.
        const callId = e.kind === 'register' ? (r as { CALL_ID?: unknown } | undefined)?.CALL_ID : undefined;
        if (typeof callId === 'string') callLogger(coreLog, { linkedid: e.key, callId }).info({}, 'Bitrix24 registered the call');
        mh?.onDelivered?.(e, r);
        crmHook?.(e, r);
      },
      onRetry: (e, err) => {
        lastError = `portal: ${err.message}`;
        mh?.onRetry?.(e, err);
      },
      onParked: (p) => {
        lastError = `parked ${p.method}: ${p.error}`;
        mh?.onParked?.(p);
      },
      onDuplicate: (k) => mh?.onDuplicate?.(k),
      onDropped: (k) => mh?.onDropped?.(k),
      onLimiterWait: (ms) => mh?.onLimiterWait?.(ms),
    },
  });
  if (rawStore instanceof SqliteOutboxStore) {
    // The disk is back: what came and went while it failed is written over the stale copy, snapshot included.
    rawStore.onRecovered = () => {
      outbox.persistAll();
      saveSnapshot();
      storeFailing = false;
      if (lastError?.startsWith('state store')) lastError = undefined;
      log.warn({ dir: config.state.dir, waiting: outbox.depth }, 'state store writable again; rewrote the waiting commands and the call state from memory');
    };
  }
  // A restart (even kill -9) resumes the calls in flight from the last snapshot; the resync below repairs the gap.
  const saved = db ? kvGet<TrackerSnapshot>(db, SNAPSHOT_KEY) : undefined;
  if (saved?.version === 1) {
    tracker.importState(saved);
    log.info({ calls: saved.calls.length }, 'resumed calls in flight from the state store');
  }
  let userExtensions = config.users.extensions;
  const crm = setupCrm(
    {
      crm: config.crm,
      numberRules: config.clickToCall.number,
      defaultUserId: config.bitrix.defaultUserId,
      userExtensions: () => userExtensions,
      httpAllow: config.http.allow,
    },
    {
      client: bitrix,
      enqueue: (key, method, params) => void outbox.enqueue(key, 'call', method, params, false),
      userIdFor: (ext) => directory.userIdFor(ext),
      extensionFor: (userId) => directory.extensionFor(userId),
      logger: log.child({ part: 'crm' }),
      clock,
    },
  );
  crmHook = (e, r) => crm.onDelivered(e, r);
  // The click-to-call service holds a CALL_ID and watches its Originate until the core reports the call ended.
  let callEndedHook: ((linkedid: string) => void) | undefined;
  const runtime = new Runtime({
    tracker,
    outbox,
    logger: coreLog,
    clock,
    commands: commandOptions,
    recordingsEnabled: attach !== undefined,
    recordingVariables,
    onEffect: (effect) => {
      deps.onEffect?.(effect);
      crm.onEffect(effect);
      if (effect.type === 'callEnded') callEndedHook?.(effect.linkedid);
    },
    // A turn that starts a call or pops a card saves the core's state in the same transaction as those commands:
    // after a kill -9 the restart knows every call it registered. Not every turn: one save costs 0.2-3 ms with
    // 10-500 calls in progress (bench/diag/snapshot-cost.ts, 2026-12-04); the 1 s timer below covers the rest.
    onEffects: (effects) => {
      if (!(rawStore instanceof SqliteOutboxStore) || !effects.some((e) => e.type === 'register' || e.type === 'bindCallId' || e.type === 'show')) return;
      rawStore.putKvThisTurn(SNAPSHOT_KEY, () => tracker.exportState(), clock());
    },
    admit: (effect) => crm.admit(effect),
    registerExtras: (effect) => crm.registerParams(effect),
  });

  // Until the first user map arrives no extension has a user (no cards): a failed load is retried soon, with
  // backoff, rather than at the next refresh, up to refreshIntervalSec later.
  let usersLoaded = false;
  // The core names users by the map it is given (an input, kept in its snapshot). Until the portal's map loads in
  // this run, the map the core restored from its snapshot stands in for the portal's, the config's entries over it.
  const userMapNow = (): Record<string, number> =>
    usersLoaded || config.users.refreshIntervalSec === 0 ? directory.extensions() : { ...tracker.userMap(), ...directory.extensions() };
  const feedUserMap = (): void => runtime.handleInput({ kind: 'userMap', at: clock(), extensions: userMapNow() });
  feedUserMap();
  let userRetryMs = deps.userMapRetryMs ?? 5_000;
  let userRetryTimer: ReturnType<typeof setTimeout> | undefined;
  const refreshUsers = async (): Promise<void> => {
    clearTimeout(userRetryTimer);
    try {
      const n = await directory.refresh(bitrix);
      usersLoaded = true;
      feedUserMap();
      log.info({ extensions: n }, 'user map loaded from Bitrix24 (UF_PHONE_INNER)');
    } catch (err) {
      log.warn({ err, ...(usersLoaded ? {} : { retryInMs: userRetryMs }) }, 'could not load users from Bitrix24; keeping the previous map');
      if (usersLoaded) return;
      userRetryTimer = setTimeout(() => void refreshUsers(), userRetryMs);
      userRetryTimer.unref();
      userRetryMs = Math.min(userRetryMs * 2, 60_000);
    }
  };
  let refreshTimer: ReturnType<typeof setInterval> | undefined;
  if (config.users.refreshIntervalSec > 0) {
    await refreshUsers();
    refreshTimer = setInterval(() => void refreshUsers(), config.users.refreshIntervalSec * 1000);
    refreshTimer.unref();
  }

  const a = config.asterisk.ami;
  const ami =
    deps.ami ??
    new AmiConnection({
      host: a.host,
      port: a.port,
      username: a.username,
      secret: a.secret,
      filters: a.eventFilter ? eventFilters(recordingVariables) : [],
      pingIntervalMs: a.pingIntervalMs,
      pingTimeoutMs: a.pingTimeoutMs,
      reconnect: { initialDelayMs: a.reconnect.initialDelayMs, maxDelayMs: a.reconnect.maxDelayMs, factor: 2, jitter: 0.2 },
      logger: log.child({ part: 'ami' }),
    });
  const ringBack = new RingBackService({
    ami,
    store: new FileRingBackStore({ dir: config.state.dir }),
    config: config.ringBack,
    logger: log.child({ part: 'ringback' }),
    clock,
    ...(m ? { metrics: { record: m.ringback.record } } : {}),
    notify: async ({ iface, queue, cooldownSec, policy }) => {
      const ext = classifier.extensionOf(iface);
      const userId = ext === undefined ? undefined : directory.userIdFor(ext);
      if (userId === undefined) return;
      outbox.enqueue(`notify:${iface}:${clock()}`, 'call', 'im.notify', {
        to: userId,
        type: 'SYSTEM',
        message:
          policy === 'pause'
            ? `You missed a call in queue ${queue}; you are paused there for ${cooldownSec} s.`
            : `You missed a call in queue ${queue}; other agents get its calls first for ${cooldownSec} s.`,
      }, false);
    },
  });
  await ringBack.start();
  m?.ringback.observeSetAside(() => ringBack.setAsideCount());
  m?.bindOutbox(outbox, clock);
  m?.observeRuntime(() => ({ ...runtime.stats, activeCalls: tracker.activeCalls }));
  m?.bindAmi(ami);
  ami.on('event', (msg) => {
    runtime.handleAmiEvent(msg);
    ringBack.handleAmiEvent(msg);
  });
  ami.on('connected', () => void ringBack.onAmiReconnected());
  // The connection logs its own lifecycle (connected, disconnected, framing errors, Asterisk restarts).
  let blindSince: number | undefined = saved?.lastEventAt;
  const resync = new ResyncRetry({
    attempt: async () => {
      const at = blindSince ?? clock();
      const known = tracker.channelIds();
      const live = await liveChannels(ami, config.asterisk.ami.actionTimeoutMs);
      blindSince = undefined;
      runtime.handleInput({ kind: 'resync', at, live, known });
      log.info({ live: live.length, activeCalls: tracker.activeCalls }, 'resynced calls with Asterisk');
    },
    isConnected: () => ami.isConnected,
    logger: log,
    initialDelayMs: config.asterisk.ami.reconnect.initialDelayMs,
    maxDelayMs: config.asterisk.ami.reconnect.maxDelayMs,
  });
  ami.on('disconnected', () => {
    blindSince ??= clock();
    resync.stop();
  });
  ami.on('connected', () => resync.start());

  const saveSnapshot = (): void => {
    if (!db) return;
    try {
      kvSet(db, SNAPSHOT_KEY, tracker.exportState(), clock());
    } catch (err) {
      lastError = `state store snapshot: ${(err as Error).message}`;
    }
  };
  let savedEvents = -1;
  const snapshotTimer = setInterval(() => {
    if (runtime.stats.events === savedEvents) return;
    savedEvents = runtime.stats.events;
    saveSnapshot();
  }, 1000);
  snapshotTimer.unref();
  const retryTimer = setInterval(() => {
    if (store instanceof SqliteOutboxStore) for (const seq of store.takeRetryRequests()) outbox.retryParked(seq);
  }, 5000);
  retryTimer.unref();
  // An idle daemon still finds out that its portal went away (health), with one request a minute at most.
  const probeTimer = setInterval(() => {
    if (portal.idleFor(PORTAL_PROBE_IDLE_MS)) bitrix.call('server.time').catch(() => undefined);
  }, PORTAL_PROBE_IDLE_MS / 2);
  probeTimer.unref();
  await ami.connect().catch((err: unknown) => {
    // Not fatal: the connection keeps retrying with backoff; calls are picked up once it is back.
    log.error({ err }, 'AMI login failed; retrying');
  });

  // A refused webhook (401/403/404) parks commands: say so next to the portal's state, with what to do.
  const healthError = (): string | undefined =>
    portal.problem && lastError?.includes('webhook refused') ? `${portal.problem}; ${lastError}` : (portal.problem ?? lastError);
  const health = (): BridgeHealth => {
    const error = healthError();
    return {
      ami: ami.isConnected,
      portal: portal.reachable,
      outboxDepth: outbox.depth,
      parked: outbox.parkedEntries().length,
      ...(error ? { lastError: error } : {}),
    };
  };
  // Last to start: the first click must find the runtime and the AMI connection ready.
  const endpoint = await startEndpoint(
    { http: config.http, clickToCall: config.clickToCall, bitrix: config.bitrix, ari: config.asterisk.ari },
    {
      ami,
      bitrix,
      commands: commandOptions,
      submit: (input) => runtime.handleInput(input),
      userExtension: (userId) => directory.extensionFor(userId),
      health,
      logger: log.child({ part: 'http' }),
      clock,
      extraRoutes: {
        ...crm.routes,
        ...(m ? { 'GET /metrics': restrictTo(createAddressMatcher(config.http.metricsAllow), metricsRoute(m)) } : {}),
      },
      crm,
    },
  );
  callEndedHook = (linkedid) => endpoint.service.onCallEnded(linkedid);

  return {
    runtime,
    crm,
    endpoint,
    bitrix,
    commands: commandOptions,
    ringBack,
    health,
    outbox,
    ami,
    directory,
    tracker,
    reload(next: Config) {
      userExtensions = next.users.extensions;
      directory.setOverrides(next.users.extensions);
      feedUserMap();
      // 0 means the config map only: a reload must not bring the portal's map in (the interval needs a restart).
      if (config.users.refreshIntervalSec > 0) void refreshUsers();
      ringBack.reconfigure(next.ringBack);
    },
    async stop(drainMs = 10_000) {
      // Stop taking work first: no click-to-call may start while the rest shuts down.
      await endpoint.close(2_000);
      if (refreshTimer) clearInterval(refreshTimer);
      clearTimeout(userRetryTimer);
      clearInterval(snapshotTimer);
      resync.stop();
      clearInterval(retryTimer);
      clearInterval(probeTimer);
      // A stopped bridge holds no pauses; only a crash leaves some, reconciled at the next start.
      await ringBack.releaseAll(2000).catch(() => undefined);
      ringBack.stop();
      await ami.close().catch(() => undefined);
      const drained = await outbox.drain(drainMs);
      if (!drained) log.warn({ waiting: outbox.depth }, 'stopping with Bitrix24 commands still waiting; they are kept for the next start');
      outbox.stop();
      saveSnapshot();
      if (rawStore instanceof SqliteOutboxStore) rawStore.flush();
      db?.close();
    },
  };
}
