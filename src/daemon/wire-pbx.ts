import { AmiConnection } from '../ami/connection.js';
import type { AmiClient } from '../ami/client.js';
import { eventFilters } from '../ami/filters.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../obs/logger.js';
import type { Metrics } from '../obs/metrics.js';
import { RingBackService } from '../ringback/service.js';
import { FileRingBackStore } from '../ringback/store.js';
import { startAmiResync } from './ami-resync.js';
import type { Lifecycle } from './lifecycle.js';
import { ringBackNotifier } from './ringback-notify.js';
import type { CoreParts } from './wire-core.js';

/**
 * The PBX side: the AMI connection, whose events go to the core and to the ring-back fix, the resync after every
 * (re)connect, and the ring-back service that pauses members who let a queue call ring out.
 */

export interface PbxParts {
  ami: AmiClient;
  ringBack: RingBackService;
  /** Logs in (the connection keeps retrying with backoff on failure: never fatal). */
  connect(): Promise<void>;
}

export async function wirePbx(
  config: Config,
  deps: { ami?: AmiClient; core: CoreParts; recordingVariables: string[]; clock: () => number; logger: Logger; metrics: Metrics | undefined; lifecycle: Lifecycle },
): Promise<PbxParts> {
  const { core, clock, logger: log, lifecycle } = deps;
  const ami = deps.ami ?? amiConnection(config, deps.recordingVariables, log);
  lifecycle.onStop('AMI', () => ami.close());
  const ringBack = new RingBackService({
    ami,
    store: new FileRingBackStore({ dir: config.state.dir }),
    config: config.ringBack,
    logger: log.child({ part: 'ringback' }),
    clock,
    ...(deps.metrics ? { metrics: { record: deps.metrics.ringback.record } } : {}),
    notify: ringBackNotifier({
      classifier: core.classifier,
      userIdFor: (ext) => core.directory.userIdFor(ext),
      enqueue: (key, params) => void core.outbox.enqueue(key, 'call', 'im.notify', params, false),
      clock,
    }),
  });
  await ringBack.start();
  // A stopped bridge holds no pauses; only a crash leaves some, reconciled at the next start.
  lifecycle.onStop(
    'ring-back',
    async () => {
      await ringBack.releaseAll(2000).catch(() => undefined);
      ringBack.stop();
    },
    3_000,
  );
  deps.metrics?.ringback.observeSetAside(() => ringBack.setAsideCount());
  deps.metrics?.bindAmi(ami);
  ami.on('event', (msg) => {
    core.runtime.handleAmiEvent(msg);
    ringBack.handleAmiEvent(msg);
  });
  ami.on('connected', () => void ringBack.onAmiReconnected());
  // The connection logs its own lifecycle (connected, disconnected, framing errors, Asterisk restarts).
  const resync = startAmiResync({
    ami,
    runtime: core.runtime,
    tracker: core.tracker,
    clock,
    logger: log,
    actionTimeoutMs: config.asterisk.ami.actionTimeoutMs,
    reconnect: config.asterisk.ami.reconnect,
    blindSince: core.saved?.lastEventAt,
  });
  lifecycle.onStop('resync', () => resync.stop());
  return {
    ami,
    ringBack,
    connect: () =>
      ami.connect().catch((err: unknown) => {
        // Not fatal: the connection keeps retrying with backoff; calls are picked up once it is back.
        log.error({ err }, 'AMI login failed; retrying');
      }),
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
