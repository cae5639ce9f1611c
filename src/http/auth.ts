import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { errorResponse } from './errors.js';
import type { Route } from './types.js';

/**
 * Who may call us: the Bitrix24 application token (auth[application_token]) and an optional address allow-list.
 * asterlink compared the token with `!=`, which leaks how many leading characters matched; here both sides are
 * hashed first, so timingSafeEqual always compares 32 bytes and neither the content nor the length leaks.
 */
export function tokenMatches(expected: string | undefined, given: string | undefined): boolean {
  // No configured token means nobody is authenticated: fail closed.
  if (!expected || given === undefined) return false;
  const a = createHash('sha256').update(expected, 'utf8').digest();
  const b = createHash('sha256').update(given, 'utf8').digest();
  return timingSafeEqual(a, b);
}

export interface AddressMatcher {
  /** True when the list is empty (no restriction) or the address is in it. */
  allows(address: string): boolean;
}

/** One allow-list entry: `10.0.0.5`, `10.0.0.0/8`, `::1`, `2001:db8::/32`. Undefined when malformed. */
export function parseAllowEntry(entry: string): { address: string; prefix?: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', prefixText, extra] = entry.trim().split('/');
  const version = isIP(address);
  if (version === 0 || extra !== undefined) return undefined;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  if (prefixText === undefined) return { address, family };
  const max = version === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) return undefined;
  return { address, prefix: Number(prefixText), family };
}

/** Builds the matcher (node:net BlockList does the bit arithmetic). Throws on a malformed entry: config bug. */
export function createAddressMatcher(entries: readonly string[]): AddressMatcher {
  if (entries.length === 0) return { allows: () => true };
  const list = new BlockList();
  for (const entry of entries) {
    const parsed = parseAllowEntry(entry);
    if (!parsed) throw new Error(`http.allow: "${entry}" is not an IP address or CIDR prefix`);
    if (parsed.prefix === undefined) list.addAddress(parsed.address, parsed.family);
    else list.addSubnet(parsed.address, parsed.prefix, parsed.family);
  }
  return {
    allows(address) {
      const plain = unmapIPv4(address);
      const version = isIP(plain);
      if (version === 0) return false;
      return list.check(plain, version === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

/** `::ffff:10.1.2.3` (an IPv4 peer on a dual-stack socket) -> `10.1.2.3`. */
export function unmapIPv4(address: string): string {
  const m = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return m?.[1] ?? address;
}

/** Wraps a route so only allowed peers reach it (403 FORBIDDEN otherwise), e.g. GET /healthz. */
export function restrictTo(matcher: AddressMatcher, route: Route): Route {
  return (req) => (matcher.allows(req.remoteAddress) ? route(req) : errorResponse('FORBIDDEN', 'address not allowed'));
}
