import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { createAddressMatcher, tokenMatches, unmapIPv4, type AddressMatcher } from '../http/auth.js';
import type { HttpRequest } from '../http/types.js';

/**
 * Who may look at the live view and who may act on it. The rules (README "Live view", admin guide):
 * - look (GET): from this machine (loopback), from an address in http.statusAllow, or with the token;
 * - act (POST): with the token; when no token is configured, from this machine only.
 * A request that came through a proxy (Forwarded / X-Forwarded-For / X-Real-IP) is never taken for a local one:
 * a reverse proxy on the same host would otherwise make every visitor loopback. Trust by address also needs the page
 * opened by address (Host an IP literal or `localhost`): a site whose name an attacker points at 127.0.0.1 or at the
 * PBX (DNS rebinding) runs in the browser of a trusted address, and its requests carry that name as Host.
 * The token comes as the X-Status-Token header or as the cookie the page's sign-in sets; the cookie holds a hash of
 * the token, not the token. Both are compared in constant time (tokenMatches).
 */

export const TOKEN_HEADER = 'x-status-token';
export const COOKIE = 'b24status';

export interface StatusAccess {
  tokenConfigured: boolean;
  /** What the sign-in cookie carries for the configured token. */
  cookieValue(): string | undefined;
  viewer(req: HttpRequest): Viewer;
}

export interface Viewer {
  local: boolean;
  canRead: boolean;
  canAct: boolean;
  /** A token (header or cookie) was given and it is the right one. */
  signedIn: boolean;
}

export function createStatusAccess(opts: { allow: readonly string[]; token: string | undefined }): StatusAccess {
  // An empty list allows nobody extra (createAddressMatcher treats empty as "no restriction").
  const allow: AddressMatcher | undefined = opts.allow.length > 0 ? createAddressMatcher(opts.allow) : undefined;
  const token = opts.token;
  const cookie = token === undefined ? undefined : cookieFor(token);
  return {
    tokenConfigured: token !== undefined,
    cookieValue: () => cookie,
    viewer(req) {
      const byAddress = !proxied(req) && hostIsAddress(req.headers['host']);
      const local = isLoopback(req.remoteAddress) && byAddress;
      const given = req.headers[TOKEN_HEADER];
      const fromCookie = readCookie(req.headers['cookie'], COOKIE);
      const signedIn = (given !== undefined && tokenMatches(token, given)) || (fromCookie !== undefined && tokenMatches(cookie, fromCookie));
      const listed = allow !== undefined && byAddress && allow.allows(req.remoteAddress);
      return { local, signedIn, canRead: local || listed || signedIn, canAct: signedIn || (token === undefined && local) };
    },
  };
}

export function cookieFor(token: string): string {
  return createHash('sha256').update(`asterisk-b24-bridge status:${token}`, 'utf8').digest('hex');
}

export function isLoopback(address: string): boolean {
  const plain = unmapIPv4(address);
  if (isIP(plain) === 4) return plain.startsWith('127.');
  return plain === '::1';
}

/** `127.0.0.1:8090`, `[::1]:8090`, `192.168.1.10`, `localhost:8090`: not a name someone else's DNS answers for. */
export function hostIsAddress(host: string | undefined): boolean {
  if (host === undefined) return false;
  const bracketed = /^\[([0-9a-fA-F:.]+)\](?::\d{1,5})?$/.exec(host);
  if (bracketed) return isIP(bracketed[1]!) === 6;
  const name = host.replace(/:\d{1,5}$/, '');
  return name.toLowerCase() === 'localhost' || isIP(name) === 4;
}

function proxied(req: HttpRequest): boolean {
  return req.headers['forwarded'] !== undefined || req.headers['x-forwarded-for'] !== undefined || req.headers['x-real-ip'] !== undefined;
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * A state-changing request must come from the page itself: its Origin (or, without one, Sec-Fetch-Site) names this
 * host. A form or script on another site cannot pass it, whatever cookies the browser holds.
 */
export function sameOrigin(req: HttpRequest): boolean {
  const origin = req.headers['origin'];
  // Behind a reverse proxy the browser's host may reach us as X-Forwarded-Host (or the proxy passes Host on).
  const hosts = [req.headers['host'], req.headers['x-forwarded-host']?.split(',')[0]?.trim()].filter((h): h is string => !!h);
  if (origin !== undefined && origin !== 'null') return hosts.some((host) => origin === `http://${host}` || origin === `https://${host}`);
  return req.headers['sec-fetch-site'] === 'same-origin';
}
