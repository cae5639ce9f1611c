import { describe, expect, it } from 'vitest';
import { createAddressMatcher, parseAllowEntry, restrictTo, tokenMatches, unmapIPv4 } from '../../src/http/auth.js';
import type { HttpRequest } from '../../src/http/types.js';

const req = (remoteAddress: string): HttpRequest => ({ method: 'GET', path: '/healthz', query: new URLSearchParams(), headers: {}, remoteAddress, body: Buffer.alloc(0) });

describe('application token comparison', () => {
  it('accepts the exact token only', () => {
    expect(tokenMatches('s3cret-token', 's3cret-token')).toBe(true);
    expect(tokenMatches('s3cret-token', 's3cret-tokeN')).toBe(false);
    expect(tokenMatches('s3cret-token', 's3cret-toke')).toBe(false);
    expect(tokenMatches('s3cret-token', 's3cret-token-longer')).toBe(false);
    expect(tokenMatches('s3cret-token', '')).toBe(false);
    expect(tokenMatches('s3cret-token', undefined)).toBe(false);
  });

  it('fails closed when no token is configured, even for an empty token', () => {
    expect(tokenMatches(undefined, '')).toBe(false);
    expect(tokenMatches('', '')).toBe(false);
  });
});

describe('address allow-list', () => {
  it('allows everyone when the list is empty', () => {
    expect(createAddressMatcher([]).allows('203.0.113.9')).toBe(true);
  });

  it('matches plain IPv4 and IPv6 addresses and CIDR prefixes of both families', () => {
    const m = createAddressMatcher(['10.0.0.0/8', '192.0.2.7', '2001:db8::/32', '::1']);
    expect(m.allows('10.200.3.4')).toBe(true);
    expect(m.allows('192.0.2.7')).toBe(true);
    expect(m.allows('192.0.2.8')).toBe(false);
    expect(m.allows('11.0.0.1')).toBe(false);
    expect(m.allows('2001:db8:1::5')).toBe(true);
    expect(m.allows('2001:db9::5')).toBe(false);
    expect(m.allows('::1')).toBe(true);
    expect(m.allows('::ffff:10.1.2.3')).toBe(true);
    expect(m.allows('not an address')).toBe(false);
  });

  it('rejects malformed entries at start', () => {
    expect(parseAllowEntry('10.0.0.0/33')).toBeUndefined();
    expect(parseAllowEntry('10.0.0/8')).toBeUndefined();
    expect(parseAllowEntry('example.com')).toBeUndefined();
    expect(parseAllowEntry('::/129')).toBeUndefined();
    expect(parseAllowEntry('10.0.0.0/8/1')).toBeUndefined();
    expect(() => createAddressMatcher(['10.0.0.0/8', 'nope'])).toThrow(/nope/);
  });

  it('unwraps IPv4-mapped IPv6 peers', () => {
    expect(unmapIPv4('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(unmapIPv4('::1')).toBe('::1');
  });

  it('restrictTo answers 403 for a peer outside the list and passes others through', async () => {
    const route = restrictTo(createAddressMatcher(['127.0.0.1']), () => ({ status: 200, body: 'ok' }));
    expect(await route(req('127.0.0.1'))).toEqual({ status: 200, body: 'ok' });
    const refused = await route(req('198.51.100.1'));
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body as string)).toEqual({ error: 'FORBIDDEN', message: 'address not allowed' });
  });
});
