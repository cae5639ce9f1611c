/**
 * The portal's `GET /oauth/authorize/?client_id=…&state=…` page (docs settings/oauth/index.md, step 1). The admin
 * is always logged in here, so it answers at once: a 302 to the app's handler URL with
 * `code, state, domain, member_id, scope, server_domain`; without a handler URL the code is shown on the page
 * (the docs' "simplified authorization code"). A failed authorization is an error page, never a redirect.
 */
import type { PortalApp } from './portal-app.js';

export interface AuthorizeAnswer {
  status: number;
  /** Set for a redirect. */
  location?: string;
  html?: string;
  /** The code minted for this visit, if any (for the emulator's own log; never printed by it). */
  code?: string;
}

export interface PortalIdentity {
  /** auth[domain] / `domain=`: the portal's host. */
  domain: string;
  memberId: string;
  /** `server_domain=`: the authorization server's host. */
  oauthDomain: string;
}

export function authorize(app: PortalApp | null, portal: PortalIdentity, query: URLSearchParams): AuthorizeAnswer {
  const clientId = query.get('client_id') ?? '';
  // Best guess: the status of the error page is not documented; 400 keeps it apart from a success page.
  if (!app || app.deleted || clientId !== app.config.clientId) {
    return { status: 400, html: page('Authorization error', 'The application was not found or is not installed.') };
  }
  const code = app.tokens.mintCode(app.config.userId);
  if (!app.handlerUrl) {
    return { status: 200, code, html: page('Authorization code', `Enter this code in the application: <code>${code}</code>`) };
  }
  const target = new URL(app.handlerUrl);
  target.searchParams.append('code', code);
  target.searchParams.append('state', query.get('state') ?? '');
  target.searchParams.append('domain', portal.domain);
  target.searchParams.append('member_id', portal.memberId);
  target.searchParams.append('scope', app.scopeList);
  target.searchParams.append('server_domain', portal.oauthDomain);
  return { status: 302, location: target.toString(), code };
}

function page(title: string, body: string): string {
  return `<html><head><title>${title}</title></head><body><h1>${title}</h1><p>${body}</p></body></html>`;
}
