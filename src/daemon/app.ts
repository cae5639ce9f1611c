import type { AmiClient } from '../ami/client.js';
import type { BitrixClient } from '../bitrix/client.js';
import type { CommandOptions } from '../bitrix/commands.js';
import { acquire } from '../bitrix/limiter.js';
import { setupRecordings } from '../recordings/setup.js';
import type { RecordingHooks } from '../recordings/pipeline.js';
import type { Metrics } from '../obs/metrics.js';
import { metricsRoute } from '../obs/metrics-route.js';
import { startEndpoint, type Endpoint } from '../clicktocall/endpoint.js';
import { createAddressMatcher, restrictTo } from '../http/auth.js';
import type { Crm } from '../crm/setup.js';
import type { RingBackService } from '../ringback/service.js';
import type { OutboxStore } from '../bitrix/outbox-entry.js';
import type { Outbox, AttachHandler } from '../bitrix/outbox.js';
import type { ExtensionDirectory } from '../bitrix/user-directory.js';
import type { Config } from '../config/schema.js';
import type { Effect } from '../core/effects.js';
import type { CallTracker } from '../core/tracker.js';
import type { Logger } from '../obs/logger.js';
import { bridgeHealth, refusedWebhook, type BridgeHealth } from './health.js';
import { Lifecycle } from './lifecycle.js';
import { createPortal, PORTAL_PROBE_IDLE_MS } from './portal.js';
import { Problems } from './problems.js';
import type { Runtime } from './runtime.js';
import { setupAppMode } from '../app/app-mode.js';
import { openStateStore } from './state-store.js';
import { UserMapSync } from './user-map.js';
import { wireCore } from './wire-core.js';
import { wirePbx } from './wire-pbx.js';
import type { Transcripts } from '../transcripts/setup.js';
import { wireTranscripts } from './wire-transcripts.js';
import { wireStatus, type LiveView } from './wire-status.js';
import { RecentErrors } from '../status/recent-errors.js';

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
  /** Fed by the logger (createLogger's onNotice): the live view's recent errors. Without it the list stays empty. */
  recentErrors?: RecentErrors;
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
  /** Call transcripts (issue 18); undefined when transcripts.enabled is false. */
  transcripts: Transcripts | undefined;
  /** The live view (/status, /status.json, /status/events): its current state. */
  liveView: LiveView;
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
  const problems = new Problems();

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
          commitNow: () => state.turnWriter?.flush(),
        })
      : undefined;
  const portal = createPortal(config, { ...(deps.bitrix ? { client: deps.bitrix } : {}), ...(appMode ? { auth: appMode.auth } : {}), state, logger: log, ...(m ? { metrics: m } : {}), clock });
  const bitrix = portal.client;

  const wiredTranscripts = await wireTranscripts(config, { state, client: bitrix, clock, logger: log, metrics: m, problems });
  const transcripts = wiredTranscripts.transcripts;

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
        ...(transcripts ? { handOff: transcripts.handOff } : {}),
      });
  const attach = deps.attach ?? recordings?.attach;

  // Built after the core (it feeds the core's user-map input); the outbox asks it whether to wait for the map.
  let userMap: UserMapSync | undefined;
  const core = wireCore(config, {
    state,
    store,
    portal,
    attach,
    transcript: transcripts?.handler,
    recordingVariables,
    clock,
    logger: log,
    metrics: m,
    problems,
    lifecycle,
    drainLimit: () => drainLimit,
    awaitingUserMap: () => userMap?.awaitingFirstMap() ?? true,
    ...(deps.onEffect ? { onEffect: deps.onEffect } : {}),
  });
  const { tracker, directory, outbox, crm, runtime } = core;
  wiredTranscripts.start(outbox, lifecycle);

  userMap = new UserMapSync({
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
  portal.onAnswer(() => userMap?.portalAnswered());
  await userMap.start();
  // With refreshIntervalSec 0 (config map only), or while the portal's first load is still failing.
  feedUserMap();
  lifecycle.onStop('user map', () => userMap?.stop());

  const pbx = await wirePbx(config, { ...(deps.ami ? { ami: deps.ami } : {}), core, recordingVariables, clock, logger: log, metrics: m, lifecycle });
  const { ami, ringBack } = pbx;
  // Checked twice per idle span: an idle portal is probed within 1.5 spans of its last request.
  lifecycle.every('portal probe', PORTAL_PROBE_IDLE_MS / 2, () => portal.probeIfIdle());
  // Before the login: the live view reads Asterisk's boot time off the FullyBooted that the login brings.
  const liveView = wireStatus(config, {
    ...{ ami, portal, appAuth: appMode?.auth, tracker, directory, crm, ringBack, outbox, clock, lifecycle },
    transcriptJobs: transcripts ? () => transcripts.worker.depth : undefined,
    errors: deps.recentErrors ?? new RecentErrors({ clock }),
    logger: log.child({ part: 'status' }),
  });
  await pbx.connect();

  const health = (): BridgeHealth => bridgeHealth({ ami, portal: portal.health, outbox, problems, ...(appMode ? { more: () => appMode.problems() } : {}) });
  if (appMode) {
    // Refused while the bridge used a webhook: the application may send them (their calls were never registered).
    for (const p of outbox.parkedEntries()) if (p.dependsOn === undefined && refusedWebhook(p)) outbox.retryParked(p.seq);
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
        ...liveView.routes,
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
    commands: core.commands,
    ringBack,
    health,
    outbox,
    ami,
    directory,
    tracker,
    transcripts,
    liveView,
    reload(next: Config) {
      userMap?.reload(next.users.extensions);
      ringBack.reconfigure(next.ringBack);
    },
    async stop(drainMs = 10_000) {
      drainLimit = drainMs;
      await lifecycle.stop();
    },
  };
}
