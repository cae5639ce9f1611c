import { ConfigError, loadConfigFile } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { createLogger, setLevel } from '../obs/logger.js';
import { createMetrics } from '../obs/metrics.js';
import { createSdNotifier } from '../obs/sd-notify.js';
import { StateDirError } from '../store/db.js';
import { RecentErrors } from '../status/recent-errors.js';
import { startBridge, type Bridge } from './app.js';

/**
 * The `run` command: start in order (store, AMI, HTTP), tell systemd READY and feed its watchdog, reload what can
 * change live on SIGHUP, stop in reverse order on SIGTERM/SIGINT.
 */
export async function runDaemon(config: Config, configFile: string): Promise<void> {
  // The live view lists the last distinct warnings and errors, as the log has them (after redaction).
  const recentErrors = new RecentErrors({ clock: Date.now });
  const logger = createLogger({ level: config.log.level, format: config.log.format, onNotice: (n) => recentErrors.add(n) });
  const systemd = createSdNotifier({ env: process.env, logger: logger.child({ part: 'systemd' }) });
  const metrics = createMetrics();
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception; exiting so systemd restarts us');
    process.exit(70);
  });

  // Signals are taken before start-up finishes: a SIGTERM during start must still stop in order,
  // and SIGHUP's default action would kill node.
  let stopping = false;
  let bridge: Bridge | undefined;
  let started: Promise<Bridge> | undefined;
  const statusOf = (b: Bridge): string => {
    const h = b.health();
    return `AMI ${h.ami ? 'connected' : 'down'}, portal ${h.portal ? 'ok' : 'unreachable'}, ${h.outboxDepth} waiting`;
  };
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    void systemd.stopping(`stopping (${signal}): draining Bitrix24 commands`);
    logger.info({ signal }, 'stopping: draining Bitrix24 commands');
    (started ?? Promise.reject(new Error('not started')))
      .then((b) => b.stop(10_000))
      .then(() => {
        logger.info({}, 'stopped');
        logger.flush();
        process.exit(0);
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'error while stopping');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  let reloads = Promise.resolve();
  process.on('SIGHUP', () => {
    reloads = reloads.then(async () => {
      if (!bridge || stopping) return;
      await systemd.reloading('reloading configuration');
      try {
        const next = loadConfigFile(configFile, process.env);
        setLevel(logger, next.log.level);
        bridge.reload(next);
        logger.info({ level: next.log.level }, 'configuration reloaded (log level, user map, ring-back); other changes need a restart');
      } catch (err) {
        logger.error({ problems: err instanceof ConfigError ? err.problems : String(err) }, 'reload refused; keeping the running configuration');
      }
      await systemd.ready(statusOf(bridge));
    });
  });

  started = startBridge(config, { logger, metrics, recentErrors });
  try {
    bridge = await started;
  } catch (err) {
    if (err instanceof StateDirError) {
      // A configuration problem, not a crash: exit 78 (EX_CONFIG) so systemd does not restart in a loop.
      logger.fatal({ dir: err.dir, code: err.code }, `${err.message}; fix permissions or free space, then start again`);
      logger.flush();
      process.exit(78);
    }
    throw err;
  }
  // READY means logged in to AMI with the store open; a PBX still booting gets a bounded wait, not a failed start.
  if (!bridge.ami.isConnected) await amiLogin(bridge, config.asterisk.ami.startupWaitMs);
  await systemd.ready(statusOf(bridge));
  systemd.startWatchdog();
  for (const ev of ['connected', 'disconnected'] as const) bridge.ami.on(ev, () => void systemd.status(statusOf(bridge!)));
  logger.info({ http: `${config.http.host}:${bridge.endpoint.server.port}`, stateDir: config.state.dir }, 'asterisk-b24-bridge started');
}

function amiLogin(bridge: Bridge, waitMs: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      bridge.ami.off('connected', done);
      resolve();
    };
    const timer = setTimeout(done, waitMs);
    bridge.ami.on('connected', done);
  });
}
