/**
 * The portal's HTTP front: faults, routing (`/rest/{uid}/{code}/{method}` for the inbound webhook,
 * `/rest/{method}` for the application, `/oauth/authorize/`), leaky bucket, auth, body parsing,
 * dispatch, lost answers and the envelopes (docs/reference/bitrix24-rest.md).
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AuthorizeAnswer } from './app/authorize.js';
import { authenticateApp, withoutAuthParams, type AuthOutcome } from './auth.js';
import type { CallerAuth, Dispatcher } from './dispatch.js';
import { RestError, successBody, systemErrors, timeInfo } from './envelope.js';
import type { Faults } from './faults.js';
import type { LeakyBucket } from './leaky-bucket.js';
import type { PortalApp } from './app/portal-app.js';
import { requestParams } from './request-params.js';
import type { EmulatorState } from './state.js';
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
  state: EmulatorState;
  app: PortalApp | null;
  /** The inbound webhook's caller identity. */
  webhookAuth: () => CallerAuth;
  /** The `/oauth/authorize/` page. */
  authorize: (query: URLSearchParams) => AuthorizeAnswer;
  /** authorization_error when the webhook owner is seeded as inactive. */
  ownerInactive: () => boolean;
  isClosing: () => boolean;
}

export type Route =
  | { kind: 'webhook'; uid: string; code: string; method: string }
  | { kind: 'app'; method: string }
  | { kind: 'authorize' };

const WEBHOOK_ROUTE = /^\/rest\/([^/]+)\/([^/]+)\/([^/]+?)(?:\.json)?\/?$/;
const APP_ROUTE = /^\/rest\/([^/]+?)(?:\.json)?\/?$/;
const AUTHORIZE_ROUTE = /^\/oauth\/authorize\/?$/;

const HEADERS = {
  'Content-Type': 'application/json; charset=utf-8',
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers': 'origin, content-type, accept',
  'X-Content-Type-Options': 'nosniff',
};

function decodeMethod(raw: string): string {
  try {
    return decodeURIComponent(raw).toLowerCase();
  } catch {
    return raw.toLowerCase(); // the raw segment simply will not name a method
  }
}

export function parseRoute(pathname: string): Route | null {
  const hook = WEBHOOK_ROUTE.exec(pathname);
  if (hook) return { kind: 'webhook', uid: hook[1] ?? '', code: hook[2] ?? '', method: decodeMethod(hook[3] ?? '') };
  const app = APP_ROUTE.exec(pathname);
  if (app) return { kind: 'app', method: decodeMethod(app[1] ?? '') };
  return AUTHORIZE_ROUTE.test(pathname) ? { kind: 'authorize' } : null;
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
    restMethod: route && route.kind !== 'authorize' ? route.method : null,
    params: {},
    status: 0,
    response: undefined,
    auth: null,
  };
  deps.requests.push(record);

  // A reset, or a client that gave up (or an emulator closing) during a hang, gets nothing.
  const fault = await deps.faults.admit(req.socket, deps.isClosing);
  if (fault === null) return;

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
  if (route?.kind === 'authorize') return sendAuthorize(res, record, deps.authorize(url.searchParams));
  if (!route) return sendError(res, record, systemErrors.methodNotFound());
  // The cloud gateway counts every HTTP request, a batch being one; webhooks and the app share the bucket
  // (docs/reference/bitrix24-rest.md#leaky-bucket).
  if (!deps.bucket.tryTake()) return sendError(res, record, systemErrors.queryLimitExceeded());

  const outcome = route.kind === 'webhook' ? webhookOutcome(deps, route) : authenticateApp(deps.app, deps.state, req.headers, params);
  record.auth = outcome.record;
  if (route.kind === 'app') record.params = withoutAuthParams(params);
  if (!outcome.ok) return sendError(res, record, outcome.error);

  const result = await deps.dispatcher.call(route.method, record.params, false, outcome.auth, files);
  if (deps.faults.loseAnswer(route.method, record.params)) {
    record.answerLost = true;
    record.response = result.ok ? result.reply.result : result.error.body();
    return void req.socket.resetAndDestroy();
  }
  if (!result.ok) return sendError(res, record, result.error);
  const time = timeInfo(record.at, deps.clock(), deps.offsetMinutes);
  return send(res, record, 200, successBody(result.reply, time));
}

function webhookOutcome(deps: ServerDeps, route: { uid: string; code: string }): AuthOutcome {
  const record = { type: 'webhook' } as const;
  if (route.uid !== String(deps.userId) || route.code !== deps.webhookCode) {
    return { ok: false, error: systemErrors.invalidCredentials(), record };
  }
  if (deps.ownerInactive()) return { ok: false, error: systemErrors.authorizationError(), record };
  return { ok: true, auth: deps.webhookAuth(), record };
}

function sendAuthorize(res: ServerResponse, record: RequestRecord, answer: AuthorizeAnswer): void {
  record.status = answer.status;
  record.response = answer.location ?? answer.html;
  if (res.destroyed) return;
  const headers: Record<string, string> = { 'Content-Type': 'text/html; charset=utf-8' };
  if (answer.location) headers.Location = answer.location;
  res.writeHead(answer.status, headers).end(answer.html ?? '');
}

function sendError(res: ServerResponse, record: RequestRecord, error: RestError): void {
  // Errors carry no `time` (docs/reference/bitrix24-rest.md#error-envelope).
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
export function readBody(req: IncomingMessage, max: number): Promise<Buffer | null> {
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
