import net from 'node:net';
import type { AmiLogger } from './client.js';

/** The part of net.Socket we use, so tests can hand in any duplex. */
export interface AmiSocket {
  write(data: string): boolean;
  end(): unknown;
  destroy(): unknown;
  on(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

export interface ReconnectPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  factor: number;
  /** 0.2 = each delay is randomly moved up to 20 % either way. */
  jitter: number;
}

export const DEFAULT_RECONNECT: ReconnectPolicy = { initialDelayMs: 500, maxDelayMs: 30_000, factor: 2, jitter: 0.2 };

export interface AmiConnectionOptions {
  host: string;
  port: number;
  username: string;
  secret: string;
  /** Login `Events:` value; default 'on'. */
  events?: string;
  /** Sent as `Action: Filter` / `Operation: Add` after each login; a refused filter is only logged. */
  filters?: string[];
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
  reconnect?: Partial<ReconnectPolicy>;
  /** Socket open + banner + login + filters must fit in this. */
  connectTimeoutMs?: number;
  actionTimeoutMs?: number;
  actionIdPrefix?: string;
  logger?: AmiLogger;
  createSocket?: (host: string, port: number) => AmiSocket;
  /** For deterministic jitter in tests. */
  random?: () => number;
  /** Wall clock (ms) for Asterisk's boot time; default Date.now. */
  clock?: () => number;
}

/** The socket an AmiConnection opens unless `createSocket` is given. */
export function openTcpSocket(host: string, port: number): AmiSocket {
  const socket = net.createConnection({ host, port });
  socket.setNoDelay(true);
  socket.setKeepAlive(true, 30_000);
  return socket;
}
