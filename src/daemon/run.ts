import type { Config } from '../config/schema.js';
import { createLogger } from '../obs/logger.js';
import { startBridge } from './app.js';

/** The `run` command: start everything, stop in order on SIGTERM/SIGINT. */
export async function runDaemon(config: Config): Promise<void> {
  const logger = createLogger({ level: config.log.level, format: config.log.format });
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception; exiting so systemd restarts us');
    process.exit(70);
  });
  const bridge = await startBridge(config, { logger });
  logger.info({ http: `${config.http.host}:${config.http.port}`, stateDir: config.state.dir }, 'asterisk-b24-bridge started');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: draining Bitrix24 commands');
    bridge
      .stop(10_000)
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
}
