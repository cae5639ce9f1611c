import { Writable } from 'node:stream';
import { pino, type Level, type LoggerOptions } from 'pino';
import type { Logger } from '../../src/obs/logger.js';

/** A logger that drops everything: for tests that do not look at logs. Fits every logger interface in src/. */
export const silentLogger = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  fatal() {},
  child() {
    return silentLogger;
  },
} as unknown as Logger;

export interface LogSink {
  logger: Logger;
  /** Every line written so far, parsed. */
  lines(): Array<Record<string, unknown>>;
  /** The raw text written so far (for "this secret never appears" checks, which must also see lines exist). */
  text(): string;
}

/** A real pino logger writing into memory: tests assert what was logged (and that a secret never was). */
export function captureLogger(level: Level = 'debug', options: LoggerOptions = {}): LogSink {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  const logger = pino({ level, ...options }, stream) as unknown as Logger;
  return {
    logger,
    text: () => text,
    lines: () =>
      text
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
