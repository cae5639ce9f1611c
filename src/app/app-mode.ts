import type { AppAuth } from '../bitrix/auth/app-auth.js';
import { appAuthFromState } from '../bitrix/auth/app-auth-setup.js';
import { REFRESH_TOKEN_WARN_MS } from '../bitrix/auth/tokens.js';
import type { BitrixClient } from '../bitrix/client.js';
import { backoffDelay } from '../util/backoff.js';
import { startFromEvent } from '../clicktocall/telephony-events.js';
import type { ClickToCall } from '../clicktocall/service.js';
import type { AppConfig } from '../config/schema.js';
import type { AddressMatcher } from '../http/auth.js';
import type { HealthProblem } from '../http/health.js';
import type { HttpLogger, Route } from '../http/types.js';
import { kvGet, kvSet, type StateDb } from '../store/db.js';
import type { AuthorizeDeps } from './authorize.js';
import { ensureEventBindings, type EventDelivery } from './event-bindings.js';
import { createInstallRoutes } from './install-route.js';
import { OfflineEventPoller, type OfflineEventsState } from './offline-events.js';
import { pendingAuthorization } from './pending-state.js';

/**
 * Application mode (bitrix.auth.mode: app): a local server-side application authorised with OAuth instead of an
 * inbound webhook. Builds the pieces and runs them in order: the tokens (AppAuth), the install callback and OAuth
 * redirect routes, the event bindings (made at start and after every install), and, for offline events, the
 * poller that turns them into click-to-call without any inbound connection.
 */

export interface AppModeOptions {
  app: AppConfig;
  installPath: string;
  db: StateDb | undefined;
  clock: () => number;
  timeoutMs: number;
  logger: HttpLogger & { child?: unknown };
  allow: AddressMatcher;
  /** Commits the state store's open transaction (the outbox writes a turn in one): tokens are durable at once. */
  commitNow?: () => void;
}

export interface AppMode {
  auth: AppAuth;
  routes: Record<string, Route>;
  /** Online events are checked against the installation's application_token and member_id. */
  eventsToken(): string | undefined;
  memberId(): string | undefined;
  /** Once the REST client and the click-to-call service exist: bindings, then polling. */
  start(parts: { client: Pick<BitrixClient, 'call'>; service: Pick<ClickToCall, 'startCall' | 'startCallback'>; portalBusy: () => boolean }): void;
  stop(): Promise<void>;
  /** What /healthz and check say about the application. */
  problems(): HealthProblem[];
  poller(): OfflineEventPoller | undefined;
}

export function setupAppMode(opts: AppModeOptions): AppMode {
  const { app, clock, logger } = opts;
  const { auth, oauth } = appAuthFromState(app, opts.db, {
    timeoutMs: opts.timeoutMs,
    clock,
    logger,
    ...(opts.commitNow ? { commitNow: opts.commitNow } : {}),
    // A pair another process wrote (`auth --code`) revived the tokens: bind the events again.
    onRevived: () => void Promise.resolve().then(bind),
  });
  const delivery: EventDelivery = app.events === 'online' ? { kind: 'online', handlerUrl: app.handlerUrl! } : { kind: 'offline' };
  let client: Pick<BitrixClient, 'call'> | undefined;
  let poller: OfflineEventPoller | undefined;
  let bindingProblem: string | undefined;
  let readAndClear = false;
  let bindTimer: ReturnType<typeof setTimeout> | undefined;
  let bindFailures = 0;
  let stopped = false;

  // One binding at a time (binding twice is an error on the portal); a request meanwhile runs once more after it.
  let binding: Promise<void> | undefined;
  let bindAgain = false;
  const bind = (): Promise<void> => {
    if (binding) {
      bindAgain = true;
      return binding;
    }
    binding = bindOnce().finally(() => {
      binding = undefined;
      if (bindAgain) {
        bindAgain = false;
        void bind();
      }
    });
    return binding;
  };
  const bindOnce = async (): Promise<void> => {
    clearTimeout(bindTimer);
    if (!client || stopped || auth.status().state !== 'authorised') return;
    try {
      const changes = await ensureEventBindings(client, delivery);
      bindingProblem = undefined;
      bindFailures = 0;
      logger.info({ ...changes, delivery: delivery.kind }, 'Bitrix24 click-to-call events bound');
    } catch (err) {
      bindingProblem = `could not bind the click-to-call events (${(err as Error).message}); retrying`;
      const retryInMs = backoffDelay(++bindFailures, { initialMs: 2_000, maxMs: 60_000, jitter: 0.2 });
      logger.warn({ err, retryInMs }, 'could not bind Bitrix24 click-to-call events; retrying');
      bindTimer = setTimeout(() => void bind(), retryInMs);
      bindTimer.unref();
    }
  };

  const deps: AuthorizeDeps = { app, auth, oauth, onAuthorised: () => void bind() };
  const routes = createInstallRoutes(opts.installPath, { allow: opts.allow, deps, pending: pendingAuthorization(opts.db, clock), logger });

  return {
    auth,
    routes,
    eventsToken: () => auth.current()?.applicationToken,
    memberId: () => auth.current()?.memberId,
    start(parts) {
      client = parts.client;
      void bind();
      if (delivery.kind !== 'offline') return;
      poller = new OfflineEventPoller({
        client: parts.client,
        state: offlineEventsState(opts.db),
        handle: (event) => startFromEvent(event.name, (name) => fieldOf(event.data, name), parts.service),
        pollMs: app.eventsPollMs,
        // No token yet: nothing to poll with (the outbox's requests say so; polling would only add failures).
        portalBusy: () => parts.portalBusy() || auth.status().state !== 'authorised',
        clock,
        logger,
        onMode: (mode) => (readAndClear = mode === 'read-and-clear'),
      });
      poller.start();
    },
    async stop() {
      stopped = true;
      clearTimeout(bindTimer);
      await poller?.stop();
    },
    problems() {
      const out: HealthProblem[] = [];
      const status = auth.status();
      if (status.state === 'required') out.push({ kind: 'auth', text: `Bitrix24 application not authorised (${status.reason}): ${status.advice}`, degrading: true });
      else if (status.refreshTokenExpiresAt - clock() < REFRESH_TOKEN_WARN_MS) {
        const date = new Date(status.refreshTokenExpiresAt).toISOString().slice(0, 10);
        out.push({ kind: 'authAging', text: `the application's refresh token has not been used for long and expires on ${date}: let the bridge make a request, or run asterisk-b24-bridge auth --config FILE`, degrading: false });
      }
      if (bindingProblem) out.push({ kind: 'events', text: bindingProblem, degrading: true });
      if (readAndClear) out.push({ kind: 'events', text: 'offline events are read and cleared at once (the plan lacks rest_offline_extended): a crash at the wrong moment can lose a click', degrading: false });
      return out;
    },
    poller: () => poller,
  };
}

/** Offline EVENT_DATA values may be numbers (USER_ID): read as the strings the form path gives. */
function fieldOf(data: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const v = data[name];
  return typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined;
}

/** The poller's state in the state store (or in memory without one). */
export function offlineEventsState(db: StateDb | undefined): OfflineEventsState {
  let memory: { processId?: string; handled: Array<[string, number]> } | undefined;
  return {
    load: () => (db ? kvGet(db, 'events.offline') : memory),
    save: (s) => (db ? kvSet(db, 'events.offline', s, Date.now()) : void (memory = s)),
  };
}
