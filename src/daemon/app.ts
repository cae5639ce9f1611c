import { AmiConnection } from '../ami/connection.js';
import type { AmiClient } from '../ami/client.js';
import { eventFilters } from '../ami/filters.js';
import type { BitrixClient } from '../bitrix/client.js';
import type { CommandOptions } from '../bitrix/commands.js';
import { acquire } from '../bitrix/limiter.js';
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
import type { Logger } from '../obs/logger.js';
import { startAmiResync } from './ami-resync.js';
import { CoreState } from './core-state.js';
import { bridgeHealth, type BridgeHealth } from './health.js';
import { Lifecycle } from './lifecycle.js';
import { outboxHooks } from './outbox-hooks.js';
import { createPortal } from './portal.js';
import { Problems } from './problems.js';
import { ringBackNotifier } from './ringback-notify.js';
import { Runtime } from './runtime.js';
import { setupAppMode } from '../app/app-mode.js';
import { openStateStore } from './state-store.js';
import { UserMapSync } from './user-map.js';

/**
 * Wiring only: builds every part from the config in dependency order and registers how to stop it with the
 * lifecycle, which stops them in reverse. Each policy lives in its own module (state store, core snapshots, user
 * map, portal, resync, health); dependencies are passed in, and tests and the demo swap the edges (AMI, portal,
 * clock).
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

export type { BridgeHealth } from './health.js';

export async function startBridge(config: Config, deps: BridgeDeps): Promise<Bridge> {
  const clock = deps.clock ?? Date.now;
  const log = deps.logger;
  const m = deps.metrics;
  const lifecycle = new Lifecycle(log);
  let drainLimit = 10_000;
  const problems = new Problems(clock);

  const state = openStateStore(config.state.dir, { ...(deps.store ? { store: deps.store } : {}), logger: log, problems });
  lifecycle.onStop('state store', () => state.flushAndClose());
  // Counts recordings waiting to be attached, also those a previous run left (it wraps load()).
  const store = m ? m.recordings.trackStore(state.store) : state.store;
  const appMode =
    config.bitrix.auth.mode === 'app'
      ? setupAppMode({
          app: config.bitrix.app!,
          installPath: config.http.installPath,
          db: state.db,
          clock,
          timeoutMs: config.bitrix.timeoutMs,
          logger: log.child({ part: 'app' }),
          allow: createAddressMatcher(config.http.allow),
        })
      : undefined;
  const portal = createPortal(config, { ...(deps.bitrix ? { client: deps.bitrix } : {}), ...(appMode ? { auth: appMode.auth } : {}), logger: log, ...(m ? { metrics: m } : {}), clock });
  const bitrix = portal.client;

  const recordingVariables = [...new Set(['MIXMONITOR_FILENAME', config.recordings.pathVariable])];
  const recordingHooks = deps.recordingHooks ?? m?.recordings.hooks();
  const recordings = deps.attach
    ? undefined
    : await setupRecordings({
        config: config.recordings,
        stateDir: config.state.dir,
        // Recordings still waiting keep the MP3 an earlier run prepared; the work dir loses everything else.
        pendingAttachments: () => state.store.load().entries.filter((e) => e.kind === 'attach'),
        ...(config.asterisk.ari ? { ari: config.asterisk.ari } : {}),
        client: bitrix,
        // Uploads are HTTP requests to the portal too: they take a slot of the same leaky bucket.
        beforeRequest: async () => {
          m?.onLimiterWait(await acquire(portal.bucket, (ms) => new Promise((r) => setTimeout(r, ms))));
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
  const hooks = outboxHooks({ logger: coreLog, problems, ...(m ? { metrics: m.outboxHooks() } : {}) });
  const outbox = new Outbox({
    client: bitrix,
    store,
    clock,
    limiterDelay: () => portal.bucket.waitMs(),
    logger: log.child({ part: 'outbox' }),
    concurrency: config.outbox.concurrency,
    attachConcurrency: config.outbox.attachConcurrency,
    maxEntries: config.outbox.maxEntries,
    maxRetryDelayMs: config.outbox.maxRetryDelayMs,
    ...(attach ? { attach } : {}),
    hooks: hooks.outbox,
  });
  const coreState = new CoreState({ db: state.db, store: state.store, tracker, clock, onSaveError: (err) => problems.set('store', `state store snapshot: ${err.message}`, false) });
  // The disk is back: what came and went while it failed is written over the stale copy, snapshot included.
  state.onRecovered(() => {
    outbox.persistAll();
    coreState.save();
  });
  // A restart (even kill -9) resumes the calls in flight from the last snapshot; the resync below repairs the gap.
  const saved = coreState.load();
  if (saved) {
    tracker.importState(saved);
    log.info({ calls: saved.calls.length }, 'resumed calls in flight from the state store');
  }
  const crm = setupCrm(
    {
      crm: config.crm,
      numberRules: config.clickToCall.number,
      defaultUserId: config.bitrix.defaultUserId,
      userExtensions: () => directory.overrides,
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
  hooks.onDelivered((entry, result) => crm.onDelivered(entry, result));
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
    },
    onEffects: (effects) => coreState.afterTurn(effects),
    admit: (effect) => crm.admit(effect),
    registerExtras: (effect) => crm.registerParams(effect),
  });
  lifecycle.onStop('core snapshot', () => coreState.save());
  lifecycle.onStop('outbox', async () => {
    const drained = await outbox.drain(drainLimit);
    if (!drained) log.warn({ waiting: outbox.depth }, 'stopping with Bitrix24 commands still waiting; they are kept for the next start');
    outbox.stop();
  }, () => drainLimit + 1_000);

  const userMap = new UserMapSync({
    directory,
    client: bitrix,
    db: state.db,
    logger: log,
    clock,
    refreshIntervalSec: config.users.refreshIntervalSec,
    ...(deps.userMapRetryMs !== undefined ? { firstRetryMs: deps.userMapRetryMs } : {}),
    // The core names users by the map it is given (an input, kept in its snapshot): each change is fed to it.
    onChange: () => feedUserMap(),
  });
  const feedUserMap = (): void => runtime.handleInput({ kind: 'userMap', at: clock(), extensions: directory.extensions() });
  await userMap.start();
  // With refreshIntervalSec 0 (config map only), or while the portal's first load is still failing.
  feedUserMap();
  lifecycle.onStop('user map', () => userMap.stop());

  const ami = deps.ami ?? amiConnection(config, recordingVariables, log);
  lifecycle.onStop('AMI', () => ami.close());
  const ringBack = new RingBackService({
    ami,
    store: new FileRingBackStore({ dir: config.state.dir }),
    config: config.ringBack,
    logger: log.child({ part: 'ringback' }),
    clock,
    ...(m ? { metrics: { record: m.ringback.record } } : {}),
    notify: ringBackNotifier({
      classifier,
      userIdFor: (ext) => directory.userIdFor(ext),
      enqueue: (key, params) => void outbox.enqueue(key, 'call', 'im.notify', params, false),
      clock,
    }),
  });
  await ringBack.start();
  // A stopped bridge holds no pauses; only a crash leaves some, reconciled at the next start.
  lifecycle.onStop('ring-back', async () => {
    await ringBack.releaseAll(2000).catch(() => undefined);
    ringBack.stop();
  }, 3_000);
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
  const resync = startAmiResync({
    ami,
    runtime,
    tracker,
    clock,
    logger: log,
    actionTimeoutMs: config.asterisk.ami.actionTimeoutMs,
    reconnect: config.asterisk.ami.reconnect,
    blindSince: saved?.lastEventAt,
  });
  lifecycle.onStop('resync', () => resync.stop());
  lifecycle.every('core snapshot timer', 1000, () => coreState.tick(runtime.stats.events));
  lifecycle.every('parked retry requests', 5000, () => {
    for (const seq of state.takeRetryRequests()) outbox.retryParked(seq);
  });
  lifecycle.every('portal probe', 30_000, () => portal.probeIfIdle());
  await ami.connect().catch((err: unknown) => {
    // Not fatal: the connection keeps retrying with backoff; calls are picked up once it is back.
    log.error({ err }, 'AMI login failed; retrying');
  });

  const health = (): BridgeHealth => bridgeHealth({ ami, portal: portal.health, outbox, problems, ...(appMode ? { more: () => appMode.problems() } : {}) });
  if (appMode) {
    // Refused while the bridge used a webhook: the application may send them (their calls were never registered).
    for (const p of outbox.parkedEntries()) if (p.dependsOn === undefined && p.error.startsWith('WRONG_AUTH_TYPE')) outbox.retryParked(p.seq);
  }
  // Last to start: the first click must find the runtime and the AMI connection ready.
  const endpoint = await startEndpoint(
    {
      http: config.http,
      clickToCall: config.clickToCall,
      bitrix: config.bitrix,
      ari: config.asterisk.ari,
      ...(appMode ? { eventAuth: { applicationToken: appMode.eventsToken, memberId: appMode.memberId } } : {}),
    },
    {
      ami,
      bitrix,
      submit: (input) => runtime.handleInput(input),
      userExtension: (userId) => directory.extensionFor(userId),
      health,
      logger: log.child({ part: 'http' }),
      clock,
      extraRoutes: {
        ...crm.routes,
        ...appMode?.routes,
        ...(m ? { 'GET /metrics': restrictTo(createAddressMatcher(config.http.metricsAllow), metricsRoute(m)) } : {}),
      },
    },
  );
  // The click-to-call service holds a CALL_ID and watches its Originate until the core reports the call ended.
  runtime.subscribe((effect) => {
    if (effect.type === 'callEnded') endpoint.service.onCallEnded(effect.linkedid);
  });
  // Stop taking work first: no click-to-call may start while the rest shuts down.
  lifecycle.onStop('HTTP endpoint', () => endpoint.close(2_000), 3_000);
  if (appMode) {
    // Calls go first: a poll waits while the outbox has commands held back by the shared rate limit.
    appMode.start({ client: bitrix, service: endpoint.service, portalBusy: () => outbox.depth > 0 && portal.bucket.waitMs() > 0 });
    lifecycle.onStop('application events', () => appMode.stop());
  }

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
      userMap.reload(next.users.extensions);
      ringBack.reconfigure(next.ringBack);
    },
    async stop(drainMs = 10_000) {
      drainLimit = drainMs;
      await lifecycle.stop();
    },
  };
}

function amiConnection(config: Config, recordingVariables: string[], log: Logger): AmiConnection {
  const a = config.asterisk.ami;
  return new AmiConnection({
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
}
