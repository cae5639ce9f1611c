import { errorResponse, json } from '../http/errors.js';
import { readFormPost, formString } from '../http/form.js';
import type { HttpLogger, HttpRequest, HttpResponse, Route } from '../http/types.js';
import { COOKIE, sameOrigin, type StatusAccess, type Viewer } from './access.js';
import type { StatusAssets } from './assets.js';
import type { StatusFeed } from './feed.js';
import type { StatusSnapshot } from './types.js';

/**
 * The live view's routes, plain functions like every route of the daemon (tested without a port):
 *   GET  /status, /status.json, /status/events (server-sent events), /status/status.js, /status/status.css
 *   POST /status/sign-in, /status/sign-out, /status/release, /status/retry-parked
 * Reading and acting are decided by access.ts; a POST must also come from the page itself (sameOrigin), and no GET
 * changes anything.
 */

export interface StatusRouteDeps {
  access: StatusAccess;
  snapshot: () => StatusSnapshot;
  feed: StatusFeed;
  assets: StatusAssets;
  /** RingBackService.releaseMember: how many of our changes on the member were undone. */
  release(queue: string, iface: string): number;
  /** retryParkedCommands (src/daemon/parked.ts): the same rule as `parked --retry`. */
  retryParked(wanted: number[] | 'all'): { retried: number[]; unknown: number[] };
  logger: HttpLogger;
}

/** No framing by other sites, nothing from elsewhere, no referrer leaking the URL, never cached. */
const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export function statusRoutes(d: StatusRouteDeps): Record<string, Route> {
  const page = (body: string, status = 200): HttpResponse => ({ status, headers: { ...PAGE_HEADERS, 'content-type': 'text/html; charset=utf-8' }, body });
  const asset = (body: string, type: string): HttpResponse => ({ status: 200, headers: { ...PAGE_HEADERS, 'content-type': type }, body });
  const refuseJson = () => (d.access.tokenConfigured ? errorResponse('UNAUTHORIZED', 'the live view needs the status token from this address') : errorResponse('FORBIDDEN', 'the live view is open to this machine and http.statusAllow only'));
  const readable = (req: HttpRequest, then: (v: Viewer) => HttpResponse): HttpResponse => {
    const v = d.access.viewer(req);
    return v.canRead ? then(v) : refuseJson();
  };

  return {
    'GET /status': (req) => {
      const v = d.access.viewer(req);
      if (v.canRead) return page(d.assets.html);
      return page(d.assets.signIn.replace('{{tokenConfigured}}', String(d.access.tokenConfigured)), d.access.tokenConfigured ? 401 : 403);
    },
    // The page's own files hold no state: served to anyone who may reach the sign-in page (it uses the stylesheet).
    'GET /status/status.js': () => asset(d.assets.js, 'text/javascript; charset=utf-8'),
    'GET /status/status.css': () => asset(d.assets.css, 'text/css; charset=utf-8'),
    'GET /status.json': (req) => readable(req, (v) => json(200, { ...d.snapshot(), viewer: { canAct: v.canAct, signedIn: v.signedIn, local: v.local } }, PAGE_HEADERS)),
    'GET /status/events': (req) =>
      readable(req, () => {
        if (d.feed.full) return errorResponse('RATE_LIMITED', `at most ${d.feed.maxClients} live views at once`, { 'retry-after': '10' });
        return {
          status: 200,
          headers: { ...PAGE_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', 'x-accel-buffering': 'no' },
          // The browser reconnects after this long when the stream breaks (a restart of the daemon).
          body: 'retry: 3000\n\n',
          stream: (sink) => void d.feed.attach(sink),
        };
      }),
    'POST /status/sign-in': (req) => {
      if (!sameOrigin(req)) return errorResponse('FORBIDDEN', 'sign-in must come from the status page itself');
      const form = readFormPost(req);
      if (!form.ok) return form.response;
      const token = formString(form.form, 'token') ?? '';
      const v = d.access.viewer({ ...req, headers: { ...req.headers, cookie: undefined, 'x-status-token': token } });
      if (!v.signedIn) {
        d.logger.warn({ remoteAddress: req.remoteAddress }, 'live view: wrong status token');
        return errorResponse('UNAUTHORIZED', 'wrong token');
      }
      return { status: 303, headers: { location: '/status', 'set-cookie': cookie(d.access.cookieValue() ?? '', 'Max-Age=2592000'), 'cache-control': 'no-store' }, body: '' };
    },
    'POST /status/sign-out': (req) => {
      if (!sameOrigin(req)) return errorResponse('FORBIDDEN', 'sign-out must come from the status page itself');
      return { status: 303, headers: { location: '/status', 'set-cookie': cookie('', 'Max-Age=0'), 'cache-control': 'no-store' }, body: '' };
    },
    'POST /status/release': (req) =>
      action(req, d, (body) => {
        const queue = body['queue'];
        const iface = body['iface'];
        if (!isName(queue) || !isName(iface)) return errorResponse('BAD_REQUEST', 'queue and iface must be non-empty strings of at most 200 characters');
        const released = d.release(queue, iface);
        if (released === 0) return errorResponse('NOT_FOUND', 'the bridge holds no change on this member (already undone, or not yet verified after a restart)');
        d.logger.info({ queue, iface, remoteAddress: req.remoteAddress }, 'live view: member released by an admin');
        return json(202, { released });
      }),
    'POST /status/retry-parked': (req) =>
      action(req, d, (body) => {
        const seq = body['seq'];
        const wanted = seq === undefined ? 'all' : Array.isArray(seq) && seq.length > 0 && seq.length <= 1000 && seq.every((n) => Number.isSafeInteger(n) && n > 0) ? (seq as number[]) : undefined;
        if (wanted === undefined) return errorResponse('BAD_REQUEST', 'seq must be a list of parked command numbers, or absent for all');
        const r = d.retryParked(wanted);
        if (r.unknown.length > 0) return errorResponse('NOT_FOUND', `no parked command with seq ${r.unknown.join(', ')}; nothing retried`);
        d.logger.info({ retried: r.retried, remoteAddress: req.remoteAddress }, 'live view: parked commands retried by an admin');
        return json(202, { retried: r.retried });
      }),
  };
}

/** Token (or loopback without one configured), same origin, a small JSON object: then the action. */
function action(req: HttpRequest, d: StatusRouteDeps, run: (body: Record<string, unknown>) => HttpResponse): HttpResponse {
  const v = d.access.viewer(req);
  if (!v.canAct) {
    return d.access.tokenConfigured ? errorResponse('UNAUTHORIZED', 'actions need the status token') : errorResponse('FORBIDDEN', 'without http.statusToken, actions are allowed from this machine only');
  }
  if (!sameOrigin(req)) return errorResponse('FORBIDDEN', 'actions must come from the status page itself (Origin)');
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') return errorResponse('UNSUPPORTED_MEDIA_TYPE', 'content type must be application/json');
  let body: unknown;
  try {
    body = JSON.parse(req.body.toString('utf8') || '{}');
  } catch {
    return errorResponse('BAD_REQUEST', 'malformed JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return errorResponse('BAD_REQUEST', 'the body must be a JSON object');
  return run(body as Record<string, unknown>);
}

function isName(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= 200;
}

function cookie(value: string, extra: string): string {
  // HttpOnly: no script reads it; SameSite=Strict: no other site's request carries it. Path=/ for /status.json too.
  return `${COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; ${extra}`;
}
