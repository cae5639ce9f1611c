import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { unmapIPv4 } from './auth.js';
import { errorResponse, STATUS_OF } from './errors.js';
import { AddressRateLimiter } from './rate-limit.js';
import type { HttpErrorCode, HttpLogger, HttpRequest, HttpResponse, Route, StreamSink } from './types.js';

/**
 * The only listen() of the daemon. It turns node:http into plain HttpRequest -> HttpResponse calls and owns
 * what a route cannot: the body size cap, header/body timeouts, the per-address rate and never crashing on a
 * bad request. Routes stay pure functions tested without a port.
 */

export interface HttpLimits {
  /** Larger bodies get 413 and are not read further. Default 64 KiB (a Bitrix24 event is ~1-2 KiB). */
  maxBodyBytes: number;
  /** Time to receive the request headers (slowloris). */
  headersTimeoutMs: number;
  /** Time to receive the whole request, body included. */
  requestTimeoutMs: number;
  /** Requests per minute per peer address (token bucket, bursts up to this many). */
  perAddressPerMinute: number;
  /** Header block size cap; default 16 KiB (node's default). */
  maxHeaderBytes: number;
}

export const DEFAULT_LIMITS: HttpLimits = {
  maxBodyBytes: 64 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 15_000,
  perAddressPerMinute: 120,
  maxHeaderBytes: 16 * 1024,
};

/** Bytes a streamed response may have waiting for a slow peer. */
const MAX_STREAM_BACKLOG = 1024 * 1024;

export interface HttpServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  route: Route;
  limits?: Partial<HttpLimits>;
  logger: HttpLogger;
  clock?: () => number;
}

export interface RunningHttpServer {
  readonly host: string;
  readonly port: number;
  /** Stop accepting, let requests in flight finish for up to graceMs, then cut what is left. */
  close(graceMs?: number): Promise<void>;
}

export async function startHttpServer(opts: HttpServerOptions): Promise<RunningHttpServer> {
  const limits: HttpLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const log = opts.logger;
  const limiter = new AddressRateLimiter({ perMinute: limits.perAddressPerMinute, clock: opts.clock ?? Date.now });
  /** Streamed responses still open: ended first on close, or they would hold it up until graceMs. */
  const streams = new Set<ServerResponse>();
  const server = createServer(
    {
      // node refuses a headers timeout above the request timeout.
      headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
      requestTimeout: limits.requestTimeoutMs,
      // How often node looks for expired requests; by default 30 s, far coarser than our timeouts.
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(limits.headersTimeoutMs / 2))),
      maxHeaderSize: limits.maxHeaderBytes,
      keepAliveTimeout: 5_000,
    },
    (req, res) => {
      handle(req, res).catch((err: unknown) => {
        log.error({ err }, 'HTTP request failed unexpectedly');
        if (!res.headersSent && !res.destroyed) write(res, errorResponse('INTERNAL', 'internal error'), req.method === 'HEAD', true);
      });
    },
  );

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const remoteAddress = unmapIPv4(req.socket.remoteAddress ?? '');
    const head = req.method === 'HEAD';
    const rate = limiter.take(remoteAddress);
    if (!rate.ok) {
      log.warn({ remoteAddress }, 'HTTP request rate limited');
      return write(res, errorResponse('RATE_LIMITED', 'too many requests', { 'retry-after': String(rate.retryAfterSec) }), head, true);
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limits.maxBodyBytes) return tooLarge(res, head, remoteAddress);
    const body = await readBody(req, limits.maxBodyBytes);
    if (body === 'too-large') return tooLarge(res, head, remoteAddress);
    if (body === 'aborted') return;
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://bridge.invalid');
    } catch {
      return write(res, errorResponse('BAD_REQUEST', 'malformed request target'), head, true);
    }
    const request: HttpRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: flattenHeaders(req.headers),
      remoteAddress,
      body,
    };
    const response = await opts.route(request);
    if (response.status >= 500) log.warn({ status: response.status, path: request.path, remoteAddress }, 'HTTP request failed');
    else if (response.status >= 400) log.info({ status: response.status, path: request.path, remoteAddress }, 'HTTP request refused');
    if (response.stream && !head && response.status < 300) return openStream(res, response, response.stream);
    write(res, response, head, false);
  }

  function openStream(res: ServerResponse, r: HttpResponse, stream: (sink: StreamSink) => void): void {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(r.status, { 'content-type': 'text/plain; charset=utf-8', ...r.headers });
    res.write(r.body);
    streams.add(res);
    const closers: Array<() => void> = [];
    res.on('close', () => {
      streams.delete(res);
      for (const c of closers.splice(0)) c();
    });
    stream({
      write(chunk) {
        if (res.writableEnded || res.destroyed) return false;
        // A peer that stopped reading must not make us buffer without end: it is cut and may reconnect.
        if (res.writableLength > MAX_STREAM_BACKLOG) {
          res.destroy();
          return false;
        }
        res.write(chunk);
        return true;
      },
      end: () => res.end(),
      onClose: (listener) => void (res.destroyed ? listener() : closers.push(listener)),
    });
  }

  function tooLarge(res: ServerResponse, head: boolean, remoteAddress: string): void {
    log.warn({ remoteAddress, maxBodyBytes: limits.maxBodyBytes }, 'HTTP request body too large');
    // Connection: close: the unread rest of the body must not be parsed as the next request.
    write(res, errorResponse('PAYLOAD_TOO_LARGE', `request body exceeds ${limits.maxBodyBytes} bytes`), head, true);
  }

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // Malformed request lines, oversized headers, timeouts: answer if we still can, never throw.
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const code: HttpErrorCode =
      err.code === 'HPE_HEADER_OVERFLOW' ? 'HEADERS_TOO_LARGE' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'REQUEST_TIMEOUT' : 'BAD_REQUEST';
    log.info({ code: err.code }, 'HTTP client error');
    const status = STATUS_OF[code];
    const body = JSON.stringify({ error: code, message: STATUS_CODES[status] ?? 'bad request' });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Only the configured host: 127.0.0.1 by default, a public address only when the admin says so.
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err }, 'HTTP server error'));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : opts.port;
  log.info({ host: opts.host, port }, 'HTTP server listening');

  return {
    host: opts.host,
    port,
    close: (graceMs = 5_000) =>
      new Promise<void>((resolve) => {
        for (const res of streams) res.end();
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

/** The body, or why there is none: over the cap (reading stops at once) or the peer went away. */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | 'too-large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (v: Buffer | 'too-large' | 'aborted') => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      resolve(v);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.pause();
        return settle('too-large');
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => settle(Buffer.concat(chunks, size)));
    req.on('error', () => settle('aborted'));
    req.on('close', () => settle(req.complete ? Buffer.concat(chunks, size) : 'aborted'));
  });
}

function flattenHeaders(h: IncomingMessage['headers']): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(h)) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function write(res: ServerResponse, r: HttpResponse, head: boolean, close: boolean): void {
  if (res.headersSent || res.destroyed) return;
  const body = typeof r.body === 'string' ? Buffer.from(r.body, 'utf8') : r.body;
  const headers: Record<string, string | number> = { 'content-type': 'text/plain; charset=utf-8', ...r.headers, 'content-length': body.length };
  if (close) headers['connection'] = 'close';
  res.writeHead(r.status, headers);
  res.end(head ? undefined : body);
}
