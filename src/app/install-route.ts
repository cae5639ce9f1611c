import { restrictTo, tokenMatches, type AddressMatcher } from '../http/auth.js';
import { errorResponse, json } from '../http/errors.js';
import { formString, readFormPost } from '../http/form.js';
import type { HttpLogger, HttpResponse, Route } from '../http/types.js';
import { acceptCode, acceptInstall, type AuthorizeDeps, type AuthorizeResult } from './authorize.js';

/**
 * http.installPath (default /bitrix/install), two ways in:
 * - POST: the local application's install callback (event=ONAPPINSTALL with auth[...]), from Bitrix24's servers;
 * - GET ?code=…&state=…: an admin's browser redirected back by Bitrix24 after `auth` printed the authorize URL. The
 *   state must be the one `auth` wrote to the state store (an OAuth redirect without it is refused: CSRF).
 * Nothing is stored unless every check passes (src/app/authorize.ts); no token ever appears in an answer or a log.
 */

export interface PendingAuthorization {
  /** The state `auth` printed, if it is still pending and fresh. */
  state(): string | undefined;
  /** Used once: a redirect replayed later is refused. */
  clear(): void;
}

export interface InstallRouteOptions {
  allow: AddressMatcher;
  deps: AuthorizeDeps;
  pending: PendingAuthorization;
  logger: HttpLogger;
}

export function createInstallRoutes(path: string, opts: InstallRouteOptions): Record<string, Route> {
  return {
    [`POST ${path}`]: restrictTo(opts.allow, async (req) => {
      const read = readFormPost(req);
      if (!read.ok) return read.response;
      const { form } = read;
      if (formString(form, 'event')?.toUpperCase() !== 'ONAPPINSTALL') return errorResponse('BAD_REQUEST', 'event must be ONAPPINSTALL');
      const a = (k: string) => formString(form, 'auth', k);
      const result = await acceptInstall(
        {
          accessToken: a('access_token'),
          refreshToken: a('refresh_token'),
          expiresIn: a('expires_in'),
          applicationToken: a('application_token'),
          memberId: a('member_id'),
          domain: a('domain'),
          serverEndpoint: a('server_endpoint'),
          clientEndpoint: a('client_endpoint'),
        },
        opts.deps,
      );
      log(opts.logger, 'install callback', req.remoteAddress, result);
      return result.ok ? json(200, { ok: true, domain: result.domain }) : errorResponse(result.code, result.message);
    }),
    [`GET ${path}`]: restrictTo(opts.allow, async (req) => {
      const code = req.query.get('code') ?? undefined;
      const state = req.query.get('state') ?? undefined;
      if (code === undefined) return page(400, 'No authorization code', 'Open the URL that `asterisk-b24-bridge auth --config FILE` prints.');
      // Always compared, in constant time: an absent pending state and a wrong one answer alike.
      if (!tokenMatches(opts.pending.state(), state)) {
        opts.logger.warn({ remoteAddress: req.remoteAddress }, 'OAuth redirect with a missing or unknown state refused');
        return page(403, 'Authorization refused', 'This link is not the one `auth` printed, or it was already used. Run `asterisk-b24-bridge auth --config FILE` again.');
      }
      opts.pending.clear();
      const result = await acceptCode(code, opts.deps);
      log(opts.logger, 'OAuth redirect', req.remoteAddress, result);
      return result.ok
        ? page(200, 'asterisk-b24-bridge is authorised', `The bridge now works as the application on ${result.domain}. You can close this window.`)
        : page(result.code === 'PORTAL_UNAVAILABLE' ? 503 : 403, 'Authorization failed', result.message);
    }),
  };
}

function log(logger: HttpLogger, what: string, remoteAddress: string, result: AuthorizeResult): void {
  if (result.ok) logger.info({ remoteAddress, domain: result.domain }, `${what}: Bitrix24 application authorised`);
  else logger.warn({ remoteAddress, reason: result.message }, `${what} refused; nothing stored`);
}

function page(status: number, title: string, text: string): HttpResponse {
  const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const body = `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title></head><body><h1>${esc(title)}</h1><p>${esc(text)}</p></body></html>`;
  return { status, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }, body };
}
