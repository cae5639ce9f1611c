import type { Config } from '../config/schema.js';
import { createLogger } from '../obs/logger.js';
import { startBridge, type Bridge } from './app.js';
import { StateDirError } from '../store/db.js';

/** The `run` command: start everything, stop in order on SIGTERM/SIGINT. */
export async function runDaemon(config: Config): Promise<void> {
  const logger = createLogger({ level: config.log.level, format: config.log.format });
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception; exiting so systemd restarts us');
    process.exit(70);
  });
  // Signals are taken before start-up finishes: a SIGTERM during start must still stop in order.
  let stopping = false;
  let started: Promise<Bridge> | undefined;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: draining Bitrix24 commands');
    (started ?? Promise.reject(new Error('not started')))
      .then((bridge) => bridge.stop(10_000))
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
  started = startBridge(config, { logger });
  try {
    await started;
  } catch (err) {
    if (err instanceof StateDirError) {
      // A configuration problem, not a crash: exit 78 (EX_CONFIG) so systemd does not restart in a loop.
      logger.fatal({ dir: err.dir, code: err.code }, `${err.message}; fix permissions or free space, then start again`);
      logger.flush();
      process.exit(78);
    }
    throw err;
  }
  logger.info({ http: `${config.http.host}:${config.http.port}`, stateDir: config.state.dir }, 'asterisk-b24-bridge started');
}
