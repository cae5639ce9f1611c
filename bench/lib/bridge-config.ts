import { pino } from 'pino';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { createLogger, type Logger } from '../../src/obs/logger.js';

/**
 * What every in-process daemon of the benchmarks shares. Kept apart from the simulators so that the memory
 * child process loads only what the daemon itself loads.
 */

/** Logs at the production level (info), as JSON, to /dev/null: the cost of writing them stays in, the output does not. */
export function devNullLogger(): Logger {
  return createLogger({ level: 'info', format: 'json', destination: pino.destination({ dest: '/dev/null', sync: true }) });
}

/**
 * parseConfig, with the HTTP endpoint on a free loopback port (several daemons run side by side) and `recordings`
 * left out when this build's schema does not know the section (other parts of the daemon were being finished
 * while these benchmarks were written).
 */
export function benchConfig(input: Record<string, unknown>): Config {
  const doc = { http: { host: '127.0.0.1', port: 0 }, ...input };
  try {
    return parseConfig(doc);
  } catch (err) {
    if (!(err instanceof ConfigError) || !('recordings' in doc) || !err.problems.some((p) => p.includes('recordings'))) throw err;
    const { recordings: _recordings, ...rest } = doc;
    return parseConfig(rest);
  }
}

/** Far beyond anything the benchmarks send: "limiter not saturated". */
export const UNSATURATED = { perSecond: 100_000, burst: 10_000_000 };
