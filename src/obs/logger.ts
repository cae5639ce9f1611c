import { pino, type Logger, type DestinationStream } from 'pino';

/**
 * pino with redaction: secrets never reach a log line, whatever object a caller logs.
 * JSON to stdout for journald; pretty only when asked or when stdout is a terminal.
 */
export const REDACT_PATHS = [
  'secret',
  'password',
  'webhookUrl',
  'applicationToken',
  'token',
  'auth',
  '*.secret',
  '*.password',
  '*.webhookUrl',
  '*.applicationToken',
  '*.token',
  '*.auth',
  '*.*.secret',
  '*.*.password',
  '*.*.webhookUrl',
  '*.*.applicationToken',
  'params.FILE_CONTENT',
  'headers.authorization',
  'req.headers.authorization',
];

export type { Logger };

export interface LoggerOptions {
  level: string;
  format: 'auto' | 'json' | 'pretty';
  destination?: DestinationStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  const base = {
    level: opts.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: 'asterisk-b24-bridge' },
  };
  if (opts.destination) return pino(base, opts.destination);
  const pretty = opts.format === 'pretty' || (opts.format === 'auto' && process.stdout.isTTY === true);
  if (pretty) return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:standard' } } });
  return pino(base);
}
