import type { RestAuth } from '../bitrix/auth/rest-auth.js';
import { webhookAuth } from '../bitrix/auth/webhook-auth.js';
import { createBitrixClient, type BitrixClient, type RequestInfo } from '../bitrix/client.js';
import type { LeakyBucket } from '../bitrix/limiter.js';
import { openLimiter } from '../store/limiter-state.js';
import type { StateStore } from './state-store.js';
import type { Config } from '../config/schema.js';
import type { Metrics } from '../obs/metrics.js';
import type { Logger } from '../obs/logger.js';
import { PortalHealth } from './portal-health.js';

/**
 * The daemon's one way to Bitrix24: the shared leaky bucket (every request to the portal takes a slot: outbox
 * batches, user map, lookups, uploads, event polling), the REST client, and what every request says about the
 * portal's health. An idle daemon still finds out that its portal went away, with one request a minute at most.
 */

export interface Portal {
  client: BitrixClient;
  bucket: LeakyBucket;
  health: PortalHealth;
  /** One light request when the portal has been idle for a minute (for /healthz); called by a timer. */
  probeIfIdle(): void;
  /** Told after every request the portal answered (whatever it said): it is reachable again. */
  onAnswer(listener: () => void): void;
}

export const PORTAL_PROBE_IDLE_MS = 60_000;

export function createPortal(
  config: Config,
  deps: { client?: BitrixClient; auth?: RestAuth; state: Pick<StateStore, 'db' | 'turnWriter'>; logger: Logger; metrics?: Metrics; clock: () => number },
): Portal {
  const health = new PortalHealth(deps.clock);
  // Starts where the previous run left the portal's bucket (even after a kill -9), so its first burst meets no 503.
  const bucket = openLimiter(deps.state.db, deps.state.turnWriter, config.bitrix.rateLimit, deps.clock);
  const answered: Array<() => void> = [];
  const onRequest = (info: RequestInfo): void => {
    health.observe(info);
    deps.metrics?.onRequest(info);
    if (health.reachable) for (const listener of answered) listener();
  };
  const client =
    deps.client ??
    createBitrixClient({
      // The schema requires webhookUrl in webhook mode; app mode passes its own auth.
      auth: deps.auth ?? webhookAuth(config.bitrix.webhookUrl!),
      timeoutMs: config.bitrix.timeoutMs,
      limiter: bucket,
      logger: deps.logger.child({ part: 'bitrix' }),
      onRequest,
    });
  return {
    client,
    bucket,
    health,
    probeIfIdle() {
      if (health.idleFor(PORTAL_PROBE_IDLE_MS)) client.call('server.time').catch(() => undefined);
    },
    onAnswer: (listener) => void answered.push(listener),
  };
}
