/**
 * The HTTP front: faults, routing `/rest/{uid}/{code}/{method}[.json][/]`,
 * leaky bucket, webhook auth, body parsing, dispatch and the envelopes (§1–§3).
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Dispatcher } from './dispatch.js';
import { RestError, successBody, systemErrors, timeInfo } from './envelope.js';
import type { Faults } from './faults.js';
import type { LeakyBucket } from './leaky-bucket.js';
import { requestParams } from './request-params.js';
import type { RequestRecord } from './types.js';

export interface ServerDeps {
  clock: () => number;
  offsetMinutes: number;
  userId: number;
  webhookCode: string;
  maxBodyBytes: number;
  faults: Faults;
  bucket: LeakyBucket;
  dispatcher: Dispatcher;
  requests: RequestRecord[];
  /** authorization_error when the webhook owner is seeded as inactive. */
  ownerInactive: () => boolean;
  isClosing: () => boolean;
}

const ROUTE = /^\/rest\/([^/]+)\/([^/]+)\/([^/]+?)(?:\.json)?\/?$/;

const HEADERS = {
  'Content-Type': 'application/json; charset=utf-8',
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers': 'origin, content-type, accept',
  'X-Content-Type-Options': 'nosniff',
};

export function parseRoute(pathname: string): { uid: string; code: string; method: string } | null {
  const m = ROUTE.exec(pathname);
  if (!m) return null;
  let method = m[3] ?? '';
  try {
    method = decodeURIComponent(method);
  } catch {
    // keep the raw segment; it simply will not name a method
  }
  return { uid: m[1] ?? '', code: m[2] ?? '', method: method.toLowerCase() };
}

export async function handleRequest(deps: ServerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method === 'OPTIONS') {
    res.writeHead(200, HEADERS).end();
    return;
  }
  const url = new URL(req.url ?? '/', 'http://emulator.local');
  const route = parseRoute(url.pathname);
  const record: RequestRecord = {
    at: deps.clock(),
    method: req.method ?? 'GET',
    path: url.pathname,
    restMethod: route?.method ?? null,
    params: {},
    status: 0,
    response: undefined,
  };
  deps.requests.push(record);

  let fault = deps.faults.decide();
  if (fault?.kind === 'hang') {
    await deps.faults.waitForUp();
    // A client that gave up (or an emulator closing) gets nothing.
    if (deps.isClosing() || req.socket.destroyed) return void req.socket.destroy();
    fault = null;
  }
  if (fault?.kind === 'reset') return void req.socket.resetAndDestroy();

  const body = await readBody(req, deps.maxBodyBytes);
  if (body === null) {
    return send(res, record, 413, '<html><body><h1>413 Request Entity Too Large</h1></body></html>', 'text/html');
  }
  const { params, files } = requestParams(record.method, url.search, req.headers['content-type'], body);
  record.params = params;

  if (fault?.kind === 'down') {
    const html = `<html><body><h1>${fault.status} ${STATUS_CODES[fault.status] ?? 'Error'}</h1></body></html>`;
    return send(res, record, fault.status, html, 'text/html');
  }
  if (fault?.kind === 'fail') return send(res, record, fault.status, fault.body);
  if (!route) return sendError(res, record, systemErrors.methodNotFound());
  // The cloud gateway counts every HTTP request, a batch being one (§3).
  if (!deps.bucket.tryTake()) return sendError(res, record, systemErrors.queryLimitExceeded());
  if (route.uid !== String(deps.userId) || route.code !== deps.webhookCode) {
    return sendError(res, record, systemErrors.invalidCredentials());
  }
  if (deps.ownerInactive()) return sendError(res, record, systemErrors.authorizationError());

  const outcome = await deps.dispatcher.call(route.method, params, false, files);
  if (!outcome.ok) return sendError(res, record, outcome.error);
  const time = timeInfo(record.at, deps.clock(), deps.offsetMinutes);
  return send(res, record, 200, successBody(outcome.reply, time));
}

function sendError(res: ServerResponse, record: RequestRecord, error: RestError): void {
  // Errors carry no `time` (§2.2).
  send(res, record, error.status, error.body());
}

function send(res: ServerResponse, record: RequestRecord, status: number, body: unknown, type?: string): void {
  record.status = status;
  record.response = body;
  if (res.destroyed) return;
  const headers = type ? { ...HEADERS, 'Content-Type': `${type}; charset=utf-8` } : HEADERS;
  res.writeHead(status, headers).end(typeof body === 'string' ? body : JSON.stringify(body));
}

/** Whole body, or null when it exceeds `max` bytes (the excess is drained and dropped). */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > max ? null : Buffer.concat(chunks)));
    req.on('error', () => resolve(null));
  });
}
