import { Writable } from 'node:stream';
import { pino, type Level, type LoggerOptions } from 'pino';
import { createLogger, type Logger } from '../../src/obs/logger.js';

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
  return sinkOf((stream) => pino({ level, ...options }, stream) as unknown as Logger);
}

/**
 * The daemon's own logger (src/obs/logger.ts: redaction on every line) writing into memory, line by line exactly as
 * journald would receive them: for tests of what reaches the journal.
 */
export function captureDaemonLogger(level: Level = 'trace'): LogSink {
  return sinkOf((stream) => createLogger({ level, format: 'json', destination: stream }));
}

function sinkOf(make: (stream: Writable) => Logger): LogSink {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  const logger = make(stream);
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
