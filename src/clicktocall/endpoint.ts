import type { AmiClient } from '../ami/client.js';
import type { BitrixClient } from '../bitrix/client.js';
import type { ClickToCallConfig, HttpServerConfig } from '../config/http.js';
import type { CoreInput } from '../core/events.js';
import { createAddressMatcher, restrictTo } from '../http/auth.js';
import { createHealthRoute, type HealthStatus } from '../http/health.js';
import { createRouter } from '../http/router.js';
import { startHttpServer, type RunningHttpServer } from '../http/server.js';
import type { HttpLogger, Route } from '../http/types.js';
import { ariOriginator } from './ari.js';
import { amiHangup, amiOriginator, type Originator } from './originate.js';
import { responsibleLookup } from './portal.js';
import { createEventsRoute } from './routes.js';
import { ClickToCall } from './service.js';

/**
 * Wiring of the HTTP side: originator (AMI or ARI), click-to-call service, events route, /healthz, server.
 * The daemon calls this once after the runtime exists and closes it first on stop (stop taking work).
 */

export interface EndpointConfig {
  http: HttpServerConfig & { host: string; port: number };
  clickToCall: ClickToCallConfig;
  bitrix: { applicationToken?: string | undefined; defaultUserId: number };
  /** App mode: events carry the installed application's token and the portal's member_id (read per request). */
  eventAuth?: { applicationToken: () => string | undefined; memberId: () => string | undefined } | undefined;
  ari?: { url: string; username: string; password: string } | undefined;
}

export interface EndpointParts {
  ami: AmiClient;
  bitrix: BitrixClient;
  /** runtime.handleInput */
  submit: (input: CoreInput) => void;
  /** Bitrix24 user -> extension (reverse user map). */
  userExtension: (userId: number) => string | undefined;
  health: () => HealthStatus;
  logger: HttpLogger;
  clock?: () => number;
  /** More routes (`'GET /metrics': ...`) mounted on the same server. */
  extraRoutes?: Record<string, Route>;
}

export interface Endpoint {
  server: RunningHttpServer;
  service: ClickToCall;
  close(graceMs?: number): Promise<void>;
}

export async function startEndpoint(cfg: EndpointConfig, parts: EndpointParts): Promise<Endpoint> {
  const clock = parts.clock ?? Date.now;
  const c2c = cfg.clickToCall;
  let originator: Originator;
  if (c2c.via === 'ari') {
    if (!cfg.ari) throw new Error('clickToCall.via is "ari" but asterisk.ari is not configured');
    originator = ariOriginator(cfg.ari);
  } else {
    originator = amiOriginator(parts.ami);
  }
  const service = new ClickToCall({
    originator,
    userExtension: parts.userExtension,
    submit: parts.submit,
    responsibleFor: responsibleLookup(parts.bitrix),
    pbxAvailable: () => parts.ami.isConnected,
    // Over AMI even when originating with ARI: AMI is how the daemon follows (and so sees late) channels.
    hangup: amiHangup(parts.ami),
    clock,
    config: c2c,
    defaultUserId: cfg.bitrix.defaultUserId,
    logger: parts.logger,
  });
  const onAmiEvent = (msg: Parameters<ClickToCall['onAmiEvent']>[0]) => service.onAmiEvent(msg);
  parts.ami.on('event', onAmiEvent);

  if (!cfg.eventAuth && !cfg.bitrix.applicationToken) parts.logger.warn({}, 'bitrix.applicationToken is not set: every Bitrix24 event will be refused (401)');
  const allow = createAddressMatcher(cfg.http.allow);
  // Health checks come from the host itself (systemd, monitoring agent) even when only Bitrix24 may post events.
  const healthAllow = createAddressMatcher(cfg.http.allow.length > 0 ? [...cfg.http.allow, '127.0.0.0/8', '::1'] : []);
  const route = createRouter({
    ...parts.extraRoutes,
    [`POST ${cfg.http.eventsPath}`]: createEventsRoute({
      applicationToken: cfg.eventAuth?.applicationToken ?? (() => cfg.bitrix.applicationToken),
      ...(cfg.eventAuth ? { memberId: cfg.eventAuth.memberId } : {}),
      allow,
      service,
      logger: parts.logger,
    }),
    'GET /healthz': restrictTo(healthAllow, createHealthRoute(parts.health)),
  });
  const server = await startHttpServer({
    host: cfg.http.host,
    port: cfg.http.port,
    route,
    limits: {
      maxBodyBytes: cfg.http.maxBodyBytes,
      headersTimeoutMs: cfg.http.headersTimeoutMs,
      requestTimeoutMs: cfg.http.requestTimeoutMs,
      perAddressPerMinute: cfg.http.perAddressPerMinute,
    },
    logger: parts.logger,
    clock,
  }).catch((err: unknown) => {
    parts.ami.off('event', onAmiEvent);
    throw err;
  });
  return {
    server,
    service,
    async close(graceMs) {
      await server.close(graceMs);
      parts.ami.off('event', onAmiEvent);
    },
  };
}
