import type { CrmConfig } from '../config/crm.js';
import type { NumberRules } from '../config/http.js';
import { createAddressMatcher, tokenMatches } from '../http/auth.js';
import { errorResponse } from '../http/errors.js';
import type { HttpLogger, HttpRequest, HttpResponse, Route } from '../http/types.js';
import type { Blacklist } from './blacklist.js';
import type { ExtensionResolver } from './extensions.js';
import type { CrmLookup, LookupResult } from './lookup.js';
import { checkNumber, type CrmNumber } from './number.js';

/**
 * GET /route and GET /callerid, read by the dialplan with CURL() (or scripts/b24-route.agi) while the caller waits.
 * Answers are plain text and always 200 for a valid, authenticated request, so the dialplan needs no parsing:
 * /route says an extension, `blocked` or the fallback (`none`); /callerid says a name or nothing. A bad request is a
 * 4xx with the usual JSON error and costs no REST call. Checks run cheapest first: who asks, then the number.
 */

export type AuthOutcome = 'ok' | 'UNAUTHORIZED' | 'FORBIDDEN';

/**
 * A `token` query parameter or X-Token header (crm.lookupToken, compared in constant time), a peer in http.allow, or
 * the host itself. Loopback is always accepted without a token (like /healthz): the dialplan asks from 127.0.0.1,
 * and listing Bitrix24's addresses in the shared http.allow must not silently stop routing. A presented token must
 * still be right, from anywhere. With neither configured only the host itself may ask.
 */
export function lookupAuthorizer(opts: { token?: string | undefined; allow: readonly string[] }): (req: HttpRequest) => AuthOutcome {
  const allow = createAddressMatcher(opts.allow);
  const local = createAddressMatcher(['127.0.0.0/8', '::1']);
  return (req) => {
    const given = req.query.get('token') ?? req.headers['x-token'];
    if (given !== undefined) return tokenMatches(opts.token, given) ? 'ok' : 'UNAUTHORIZED';
    if (local.allows(req.remoteAddress)) return 'ok';
    if (opts.allow.length > 0 && allow.allows(req.remoteAddress)) return 'ok';
    return opts.token ? 'UNAUTHORIZED' : 'FORBIDDEN';
  };
}

export interface CrmRoutesOptions {
  authorize: (req: HttpRequest) => AuthOutcome;
  lookup: Pick<CrmLookup, 'find'>;
  blacklist: Pick<Blacklist, 'isBlocked'>;
  extensions: Pick<ExtensionResolver, 'extensionOf'>;
  rules: NumberRules;
  config: Pick<CrmConfig, 'route' | 'callerName'>;
  logger: HttpLogger;
}

export type RouteReason = 'blacklist' | 'crm-blocked' | 'responsible' | 'not-found' | 'no-responsible' | 'no-extension' | 'not-working' | `unknown-${string}`;

export interface RouteDecision {
  answer: string;
  reason: RouteReason;
}

export function createCrmRoutes(opts: CrmRoutesOptions): Record<string, Route> {
  const route: Route = async (req) => {
    const checked = admit(req, opts);
    if (!('value' in checked)) return checked;
    const d = await decideRoute(checked.value, opts);
    opts.logger.debug({ reason: d.reason, answer: d.answer }, 'route lookup answered');
    const headers: Record<string, string> = { 'x-route-reason': d.reason };
    if (d.reason === 'responsible') headers['x-ring-seconds'] = String(opts.config.route.ringSeconds);
    return text(d.answer, headers);
  };
  const callerId: Route = async (req) => {
    const checked = admit(req, opts);
    if (!('value' in checked)) return checked;
    const r = await opts.lookup.find(checked.value);
    return text(r.kind === 'found' ? sanitizeCallerName(r.match.name, opts.config.callerName.maxLength) : '');
  };
  return { 'GET /route': route, 'GET /callerid': callerId };
}

/** The config blacklist first (no portal needed), then the CRM: its blacklist field, then the responsible's phone. */
export async function decideRoute(n: CrmNumber, opts: Pick<CrmRoutesOptions, 'lookup' | 'blacklist' | 'extensions' | 'config'>): Promise<RouteDecision> {
  if (opts.blacklist.isBlocked(n)) return { answer: 'blocked', reason: 'blacklist' };
  return routeFromLookup(await opts.lookup.find(n), opts);
}

export function routeFromLookup(r: LookupResult, opts: Pick<CrmRoutesOptions, 'extensions' | 'config'>): RouteDecision {
  const fallback = opts.config.route.fallback;
  if (r.kind === 'unknown') return { answer: fallback, reason: `unknown-${r.reason}` };
  if (r.kind === 'none') return { answer: fallback, reason: 'not-found' };
  const m = r.match;
  if (m.blocked) return { answer: 'blocked', reason: 'crm-blocked' };
  if (m.responsibleId === undefined) return { answer: fallback, reason: 'no-responsible' };
  if (opts.config.route.onlyIfTimemanOpened && m.timemanStatus !== 'OPENED') return { answer: fallback, reason: 'not-working' };
  const ext = opts.extensions.extensionOf(m.responsibleId, m.responsibleInner);
  return ext === undefined ? { answer: fallback, reason: 'no-extension' } : { answer: ext, reason: 'responsible' };
}

/**
 * A name that cannot break the dialplan it is pasted into: only letters, digits, spaces and `. - _ & + # @ ! /`;
 * everything else (CR/LF and other controls, quotes, commas, `( ) ? :` that split ExecIf, `< >` that split a
 * caller ID, `$ { } [ ]`, `\`, `;`, `|`) becomes a space; spaces collapse; cut to maxLength characters.
 */
export function sanitizeCallerName(name: string, maxLength: number): string {
  const cleaned = name
    .normalize('NFC')
    .replace(/[^\p{L}\p{M}\p{N} .\-_&+#@!/]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return [...cleaned].slice(0, maxLength).join('').trim();
}

function admit(req: HttpRequest, opts: CrmRoutesOptions): HttpResponse | { value: CrmNumber } {
  const auth = opts.authorize(req);
  if (auth === 'UNAUTHORIZED') return errorResponse(auth, 'missing or wrong token');
  if (auth === 'FORBIDDEN') return errorResponse(auth, 'address not allowed');
  const raw = req.query.getAll('number');
  if (raw.length !== 1 || raw[0] === undefined) return errorResponse('BAD_REQUEST', 'exactly one number parameter is required');
  const n = checkNumber(raw[0], opts.rules);
  // The reason describes the problem and never echoes the input.
  return n.ok ? { value: n.value } : errorResponse('INVALID_NUMBER', `number: ${n.reason}`);
}

function text(body: string, headers: Record<string, string> = {}): HttpResponse {
  return { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers }, body };
}
