import { describe, expect, it } from 'vitest';
import { createRouter } from '../../src/http/router.js';
import type { HttpRequest, HttpResponse } from '../../src/http/types.js';
import { COOKIE, cookieFor, createStatusAccess, sameOrigin } from '../../src/status/access.js';
import { loadStatusAssets } from '../../src/status/assets.js';
import { StatusFeed } from '../../src/status/feed.js';
import { statusRoutes } from '../../src/status/routes.js';
import type { StatusSnapshot } from '../../src/status/types.js';
import { silentLogger } from '../support/logger.js';

/** The live view's routes as plain functions: who may look, who may act, and what each action does. */

const TOKEN = 'status-token-0123456789abcdef';
const HOST = '10.0.0.1:8090';

const SNAPSHOT = { version: 1, generatedAt: 1, calls: [], actions: { tokenConfigured: true } } as unknown as StatusSnapshot;

function setUp(opts: { token?: string; allow?: string[] } = { token: TOKEN }) {
  const released: Array<[string, string]> = [];
  const retried: Array<number[] | 'all'> = [];
  const parked = new Set([4, 5]);
  const access = createStatusAccess({ allow: opts.allow ?? [], token: opts.token });
  const route = createRouter(
    statusRoutes({
      access,
      snapshot: () => SNAPSHOT,
      feed: new StatusFeed({ snapshot: () => SNAPSHOT, maxClients: 1 }),
      assets: loadStatusAssets(),
      release: (queue, iface) => {
        released.push([queue, iface]);
        return queue === 'sales' ? 1 : 0;
      },
      retryParked: (wanted) => {
        const unknown = wanted === 'all' ? [] : wanted.filter((s) => !parked.has(s));
        if (unknown.length === 0) retried.push(wanted);
        return { retried: unknown.length > 0 ? [] : wanted === 'all' ? [...parked] : wanted, unknown };
      },
      logger: silentLogger,
    }),
  );
  const call = (r: Partial<HttpRequest> & { path: string }): Promise<HttpResponse> =>
    Promise.resolve(route({ method: 'GET', query: new URLSearchParams(), headers: { host: HOST }, remoteAddress: '127.0.0.1', body: Buffer.alloc(0), ...r }));
  return { call, released, retried };
}

const post = (path: string, body: unknown, headers: Record<string, string> = {}, remoteAddress = '10.0.0.9'): Partial<HttpRequest> & { path: string } => ({
  method: 'POST',
  path,
  remoteAddress,
  headers: { host: HOST, origin: `http://${HOST}`, 'content-type': 'application/json', ...headers },
  body: Buffer.from(JSON.stringify(body)),
});
const errorOf = (r: HttpResponse) => (JSON.parse(String(r.body)) as { error: string }).error;

describe('who may look', () => {
  it('loopback sees the page and the state without a token', async () => {
    const { call } = setUp();
    const page = await call({ path: '/status' });
    expect([page.status, page.headers?.['content-type']]).toEqual([200, 'text/html; charset=utf-8']);
    expect(String(page.body)).toContain('/status/status.js');
    const state = await call({ path: '/status.json', remoteAddress: '::1' });
    expect(state.status).toBe(200);
    expect(JSON.parse(String(state.body))).toMatchObject({ version: 1, viewer: { canAct: false, signedIn: false, local: true } });
  });

  it('another address without the token gets the sign-in page and 401, never the state', async () => {
    const { call } = setUp();
    const page = await call({ path: '/status', remoteAddress: '10.0.0.9' });
    expect(page.status).toBe(401);
    expect(String(page.body)).toContain('action="/status/sign-in"');
    expect(String(page.body)).not.toContain('/status/status.js');
    for (const path of ['/status.json', '/status/events']) {
      const r = await call({ path, remoteAddress: '10.0.0.9' });
      expect([r.status, errorOf(r)]).toEqual([401, 'UNAUTHORIZED']);
    }
    // A wrong token is no token.
    expect((await call({ path: '/status.json', remoteAddress: '10.0.0.9', headers: { host: HOST, 'x-status-token': `${TOKEN}x` } })).status).toBe(401);
  });

  it('without a configured token, other addresses are refused outright (403), and the page says why', async () => {
    const { call } = setUp({});
    const page = await call({ path: '/status', remoteAddress: '10.0.0.9' });
    expect(page.status).toBe(403);
    expect(String(page.body)).toContain('data-token-configured="false"');
    expect(errorOf(await call({ path: '/status.json', remoteAddress: '10.0.0.9' }))).toBe('FORBIDDEN');
  });

  it('the token as a header opens the state from anywhere; http.statusAllow opens it without one', async () => {
    const { call } = setUp({ token: TOKEN, allow: ['192.168.5.0/24'] });
    expect((await call({ path: '/status.json', remoteAddress: '10.0.0.9', headers: { host: HOST, 'x-status-token': TOKEN } })).status).toBe(200);
    expect((await call({ path: '/status.json', remoteAddress: '192.168.5.20' })).status).toBe(200);
    expect((await call({ path: '/status.json', remoteAddress: '192.168.6.20' })).status).toBe(401);
  });

  it('a request that came through a proxy is never taken for a local one', async () => {
    const { call } = setUp();
    for (const h of ['x-forwarded-for', 'forwarded', 'x-real-ip']) {
      expect((await call({ path: '/status.json', headers: { host: HOST, [h]: '203.0.113.5' } })).status).toBe(401);
    }
  });

  it('trust by address needs the page opened by address: a name (DNS rebinding) needs the token', async () => {
    const { call, released } = setUp({ allow: ['192.168.5.0/24'] });
    const read = (remoteAddress: string, host?: string) => call({ path: '/status.json', remoteAddress, headers: host === undefined ? {} : { host } });
    for (const host of ['127.0.0.1:8090', 'localhost:8090', 'LOCALHOST', '[::1]:8090']) expect((await read('127.0.0.1', host)).status).toBe(200);
    for (const host of ['evil.example:8090', 'evil.example', '127.0.0.1.evil.example', undefined]) expect((await read('127.0.0.1', host)).status).toBe(403);
    expect((await read('192.168.5.20', '192.168.5.1:8090')).status).toBe(200);
    expect((await read('192.168.5.20', 'pbx.evil.example:8090')).status).toBe(403);
    // A rebinding page's action from loopback, with no token configured: refused, nothing released.
    const r = await call(post('/status/release', { queue: 'sales', iface: 'A' }, { host: 'evil.example:8090', origin: 'http://evil.example:8090' }, '127.0.0.1'));
    expect(r.status).toBe(403);
    expect(released).toEqual([]);
  });

  it('the page carries no-framing, no-referrer and same-site-only script rules', async () => {
    const { call } = setUp();
    const page = await call({ path: '/status' });
    expect(page.headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-store' });
    expect(page.headers?.['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers?.['content-security-policy']).toContain("script-src 'self'");
  });
});

describe('signing in', () => {
  const signIn = (token: string, headers: Record<string, string> = { origin: `http://${HOST}` }): Partial<HttpRequest> & { path: string } => ({
    method: 'POST',
    path: '/status/sign-in',
    remoteAddress: '10.0.0.9',
    headers: { host: HOST, 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: Buffer.from(`token=${encodeURIComponent(token)}`),
  });

  it('the right token sets an HttpOnly, SameSite=Strict cookie that holds a hash of it, and the cookie opens the state', async () => {
    const { call } = setUp();
    const r = await call(signIn(TOKEN));
    expect([r.status, r.headers?.['location']]).toEqual([303, '/status']);
    const setCookie = r.headers?.['set-cookie'] ?? '';
    expect(setCookie).toBe(`${COOKIE}=${cookieFor(TOKEN)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=2592000`);
    expect(setCookie).not.toContain(TOKEN);
    const cookie = setCookie.split(';')[0]!;
    const state = await call({ path: '/status.json', remoteAddress: '10.0.0.9', headers: { host: HOST, cookie: `other=1; ${cookie}` } });
    expect(state.status).toBe(200);
    expect(JSON.parse(String(state.body))).toMatchObject({ viewer: { canAct: true, signedIn: true, local: false } });
  });

  it('a wrong token, or a sign-in posted from another site, sets nothing', async () => {
    const { call } = setUp();
    const wrong = await call(signIn('not-the-token-at-all'));
    expect([wrong.status, wrong.headers?.['set-cookie']]).toEqual([401, undefined]);
    const foreign = await call(signIn(TOKEN, { origin: 'https://evil.example' }));
    expect([foreign.status, foreign.headers?.['set-cookie']]).toEqual([403, undefined]);
  });

  it('signing out clears the cookie', async () => {
    const { call } = setUp();
    const r = await call({ method: 'POST', path: '/status/sign-out', headers: { host: HOST, origin: `http://${HOST}` } });
    expect(r.headers?.['set-cookie']).toBe(`${COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
  });
});

describe('actions', () => {
  it('release and retry need the token, from loopback too, and change nothing without it', async () => {
    const { call, released, retried } = setUp();
    for (const remote of ['10.0.0.9', '127.0.0.1']) {
      const r = await call(post('/status/release', { queue: 'sales', iface: 'Local/201@agents/n' }, {}, remote));
      expect([r.status, errorOf(r)]).toEqual([401, 'UNAUTHORIZED']);
      expect((await call(post('/status/retry-parked', {}, {}, remote))).status).toBe(401);
    }
    expect([released, retried]).toEqual([[], []]);
  });

  it('without a configured token, loopback may act and others may not', async () => {
    const { call, released } = setUp({ allow: ['10.0.0.0/8'] });
    expect((await call(post('/status/release', { queue: 'sales', iface: 'A' }, {}, '10.0.0.9'))).status).toBe(403);
    const r = await call(post('/status/release', { queue: 'sales', iface: 'A' }, {}, '127.0.0.1'));
    expect([r.status, JSON.parse(String(r.body))]).toEqual([202, { released: 1 }]);
    expect(released).toEqual([['sales', 'A']]);
  });

  it('with the token: release goes to the ring-back service; nothing held there is 404', async () => {
    const { call, released } = setUp();
    const auth = { 'x-status-token': TOKEN };
    expect((await call(post('/status/release', { queue: 'sales', iface: 'Local/201@agents/n' }, auth))).status).toBe(202);
    const none = await call(post('/status/release', { queue: 'support', iface: 'Local/201@agents/n' }, auth));
    expect([none.status, errorOf(none)]).toEqual([404, 'NOT_FOUND']);
    expect(released).toEqual([['sales', 'Local/201@agents/n'], ['support', 'Local/201@agents/n']]);
  });

  it('retry: all, or named seqs; an unknown seq retries nothing; bad input is 400', async () => {
    const { call, retried } = setUp();
    const auth = { 'x-status-token': TOKEN };
    const all = await call(post('/status/retry-parked', {}, auth));
    expect([all.status, JSON.parse(String(all.body))]).toEqual([202, { retried: [4, 5] }]);
    expect((await call(post('/status/retry-parked', { seq: [5] }, auth))).status).toBe(202);
    const unknown = await call(post('/status/retry-parked', { seq: [5, 99] }, auth));
    expect([unknown.status, JSON.parse(String(unknown.body)).message]).toEqual([404, 'no parked command with seq 99; nothing retried']);
    for (const seq of [[], ['4'], [1.5], 'all', [-1]]) expect((await call(post('/status/retry-parked', { seq }, auth))).status).toBe(400);
    expect(retried).toEqual(['all', [5]]);
  });

  it('an action from another origin, not JSON, or malformed is refused before anything happens', async () => {
    const { call, released } = setUp();
    const auth = { 'x-status-token': TOKEN };
    const body = { queue: 'sales', iface: 'A' };
    expect((await call(post('/status/release', body, { ...auth, origin: 'https://evil.example' }))).status).toBe(403);
    expect((await call(post('/status/release', body, { ...auth, 'content-type': 'text/plain' }))).status).toBe(415);
    expect((await call({ ...post('/status/release', body, auth), body: Buffer.from('{') })).status).toBe(400);
    expect((await call(post('/status/release', [1], auth))).status).toBe(400);
    expect((await call(post('/status/release', { queue: '', iface: 'A' }, auth))).status).toBe(400);
    expect(released).toEqual([]);
  });

  it('no action answers GET: state never changes by a link', async () => {
    const { call, released } = setUp();
    const r = await call({ path: '/status/release', headers: { host: HOST, 'x-status-token': TOKEN } });
    expect([r.status, r.headers?.['allow']]).toEqual([405, 'POST']);
    expect(released).toEqual([]);
  });
});

describe('same origin', () => {
  const req = (headers: Record<string, string>) => ({ method: 'POST', path: '/', query: new URLSearchParams(), headers, remoteAddress: '', body: Buffer.alloc(0) });
  it('Origin must name the Host (or the proxy\'s X-Forwarded-Host); without Origin, Sec-Fetch-Site must say same-origin', () => {
    expect(sameOrigin(req({ host: 'a:1', origin: 'http://a:1' }))).toBe(true);
    expect(sameOrigin(req({ host: 'a:1', origin: 'https://a:1' }))).toBe(true);
    expect(sameOrigin(req({ host: '127.0.0.1:8090', 'x-forwarded-host': 'pbx.example', origin: 'https://pbx.example' }))).toBe(true);
    expect(sameOrigin(req({ host: 'a:1', origin: 'http://b:1' }))).toBe(false);
    expect(sameOrigin(req({ host: 'a:1', origin: 'null' }))).toBe(false);
    expect(sameOrigin(req({ host: 'a:1', 'sec-fetch-site': 'same-origin' }))).toBe(true);
    expect(sameOrigin(req({ host: 'a:1', 'sec-fetch-site': 'cross-site' }))).toBe(false);
    expect(sameOrigin(req({ host: 'a:1' }))).toBe(false);
  });
});
