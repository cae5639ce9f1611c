import { afterEach, describe, expect, it } from 'vitest';
import type { BitrixClient } from '../../src/bitrix/client.js';
import { sanitizeCallerName } from '../../src/crm/routes.js';
import type { HttpResponse } from '../../src/http/types.js';
import { get, NUMBERS, SEARCH, startCrmHarness, TOKEN, type CrmHarness, type HarnessOptions } from './harness.js';
import { waitFor } from '../support/wait.js';

/**
 * GET /route and GET /callerid as plain functions (no port) against the strict emulator: what the dialplan reads
 * for each kind of number, and how they behave when the portal is slow or down.
 */

let h: CrmHarness | undefined;
afterEach(async () => {
  h?.portal.faults.setUp();
  await h?.close();
  h = undefined;
});

async function start(o: HarnessOptions = {}): Promise<CrmHarness> {
  h = await startCrmHarness(o);
  return h;
}

async function route(number: string, o: Parameters<typeof get>[2] = {}): Promise<HttpResponse> {
  return h!.crm.routes['GET /route']!(get('/route', { number }, o));
}

async function callerId(number: string): Promise<HttpResponse> {
  return h!.crm.routes['GET /callerid']!(get('/callerid', { number }));
}

describe('GET /route', () => {
  it("answers the responsible manager's extension, from ASSIGNED_BY.USER_PHONE_INNER", async () => {
    await start();
    const res = await route(NUMBERS.olga);
    expect(res).toEqual({
      status: 200,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-route-reason': 'responsible', 'x-ring-seconds': '20' },
      body: '101',
    });
  });

  it('answers the extension from users.extensions for a manager without UF_PHONE_INNER', async () => {
    await start();
    expect((await route(NUMBERS.pavel)).body).toBe('20013');
  });

  it('routes a company number to the company’s manager even when a lead has the same number, as Bitrix24 binds it', async () => {
    await start();
    expect((await route(NUMBERS.acme)).body).toBe('102');
  });

  it('answers none for a lead whose manager has no extension anywhere', async () => {
    await start();
    // User 14 has no extension anywhere: nobody to ring.
    const res = await route(NUMBERS.lead);
    expect(res.body).toBe('none');
    expect(res.headers?.['x-route-reason']).toBe('no-extension');
  });

  it('reads the national 8-prefixed spelling and punctuation like click-to-call does', async () => {
    await start();
    expect((await route('8 (999) 000-11-11')).body).toBe('101');
    expect((await route('79990001111')).body).toBe('101');
  });

  it('answers none for a number the CRM does not know, and for a contact whose manager is not a user', async () => {
    await start();
    const unknown = await route(NUMBERS.unknown);
    expect([unknown.status, unknown.body, unknown.headers?.['x-route-reason']]).toEqual([200, 'none', 'not-found']);
    expect(unknown.headers?.['x-ring-seconds']).toBeUndefined();
    expect((await route(NUMBERS.orphan)).body).toBe('none');
  });

  it('answers the configured fallback word instead of none', async () => {
    await start({ crm: { route: { fallback: 'queue', ringSeconds: 15 } } });
    expect((await route(NUMBERS.unknown)).body).toBe('queue');
    expect((await route(NUMBERS.olga)).headers?.['x-ring-seconds']).toBe('15');
  });

  it('routes only to managers whose working day is open when onlyIfTimemanOpened is on', async () => {
    await start({ crm: { route: { onlyIfTimemanOpened: true } } });
    expect((await route(NUMBERS.olga)).body).toBe('101'); // Anna: OPENED
    const closed = await route(NUMBERS.acme); // Boris: CLOSED
    expect([closed.body, closed.headers?.['x-route-reason']]).toEqual(['none', 'not-working']);
  });

  it('answers blocked for an exact blacklisted number, in any spelling, without asking the portal', async () => {
    await start({ crm: { blacklist: { numbers: [NUMBERS.blacklisted] } } });
    for (const spelling of [NUMBERS.blacklisted, '89997770000', '+7 (999) 777-00-00']) {
      const res = await route(spelling);
      expect([res.status, res.body, res.headers?.['x-route-reason']]).toEqual([200, 'blocked', 'blacklist']);
    }
    expect(h!.calls(SEARCH)).toBe(0);
  });

  it('answers blocked for a blacklisted prefix, and routes numbers outside it', async () => {
    await start({ crm: { blacklist: { prefixes: ['8999777', '+7809'] } } });
    expect((await route('+79997771234')).body).toBe('blocked');
    expect((await route('+78091234567')).body).toBe('blocked');
    expect((await route(NUMBERS.olga)).body).toBe('101');
  });

  it("answers blocked when the contact's blacklist field is set (crm.contact.get)", async () => {
    // The emulator keeps no user fields: this wrapper adds UF_CRM_BLOCKED to contact 503 only.
    const wrapClient = (c: BitrixClient): BitrixClient => ({
      ...c,
      async call<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
        const result = await c.call<Record<string, unknown>>(method, params);
        if (method === 'crm.contact.get') return { ...result, UF_CRM_BLOCKED: result['ID'] === '503' ? '1' : '0' } as T;
        return result as T;
      },
    });
    await start({ crm: { blacklist: { crmField: 'UF_CRM_BLOCKED' } }, wrapClient });
    const res = await route(NUMBERS.blockedContact);
    expect([res.body, res.headers?.['x-route-reason']]).toEqual(['blocked', 'crm-blocked']);
    expect((await route(NUMBERS.olga)).body).toBe('101');
    expect(h!.calls('crm.contact.get')).toBe(2);
    // A company is read with its own method, not as a contact.
    expect((await route(NUMBERS.acme)).body).toBe('102');
    expect([h!.calls('crm.contact.get'), h!.calls('crm.company.get')]).toEqual([2, 1]);
  });

  it("answers blocked when a company's or a lead's blacklist field is set (crm.company.get, crm.lead.get)", async () => {
    // The emulator keeps no user fields: the wrapper sets UF_CRM_BLOCKED on company 701 and lead 901 only.
    const blocked = new Set(['crm.company.get:701', 'crm.lead.get:901']);
    const wrapClient = (c: BitrixClient): BitrixClient => ({
      ...c,
      async call<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
        const result = await c.call<Record<string, unknown>>(method, params);
        if (!method.startsWith('crm.') || !method.endsWith('.get')) return result as T;
        return { ...result, UF_CRM_BLOCKED: blocked.has(`${method}:${String(result['ID'])}`) ? 'Y' : '' } as T;
      },
    });
    await start({ crm: { blacklist: { crmField: 'UF_CRM_BLOCKED' } }, wrapClient });
    for (const number of [NUMBERS.acme, NUMBERS.lead]) {
      const res = await route(number);
      expect([res.body, res.headers?.['x-route-reason']]).toEqual(['blocked', 'crm-blocked']);
    }
    expect((await route(NUMBERS.olga)).body).toBe('101');
    expect([h!.calls('crm.company.get'), h!.calls('crm.lead.get'), h!.calls('crm.contact.get')]).toEqual([1, 1, 1]);
    // Cached with the answer: asking again costs no request.
    await route(NUMBERS.acme);
    expect(h!.calls('crm.company.get')).toBe(1);
  });
});

describe('a slow or failing portal', () => {
  it('answers none within the deadline while the portal hangs, and the late answer fills the cache', async () => {
    await start({ crm: { lookupDeadlineMs: 300 } });
    h!.portal.faults.setDown('hang');
    const started = Date.now();
    const res = await route(NUMBERS.olga);
    const took = Date.now() - started;
    expect([res.status, res.body, res.headers?.['x-route-reason']]).toEqual([200, 'none', 'unknown-deadline']);
    // Answered while the portal was still hanging (generous slack: this is not a benchmark).
    expect(took).toBeLessThan(2000);
    expect(h!.calls(SEARCH)).toBe(1);
    // The caller name, asked right after, shares the request still in flight: no second REST call.
    expect((await callerId(NUMBERS.olga)).body).toBe('');
    expect(h!.calls(SEARCH)).toBe(1);

    h!.portal.faults.setUp();
    await waitFor(() => h!.crm.lookup.peek({ number: NUMBERS.olga, key: NUMBERS.olga.slice(1) }) !== undefined, 'the late answer in the lookup cache', 3000);
    expect((await route(NUMBERS.olga)).body).toBe('101');
    expect((await callerId(NUMBERS.olga)).body).toBe('Olga Client');
    expect(h!.calls(SEARCH)).toBe(1);
  });

  it('answers none while the portal answers 503, then leaves the portal alone for a while', async () => {
    await start({ crm: { lookupDeadlineMs: 300 }, manualClock: true });
    h!.portal.faults.setDown(503);
    const res = await route(NUMBERS.olga);
    expect([res.status, res.body, res.headers?.['x-route-reason']]).toEqual([200, 'none', 'unknown-failed']);
    expect(h!.calls(SEARCH)).toBe(1);
    // Cooling down: the next calls do not even ask (each request would also take a rate-limiter slot).
    expect((await route(NUMBERS.acme)).headers?.['x-route-reason']).toBe('unknown-cooldown');
    expect((await callerId(NUMBERS.acme)).body).toBe('');
    expect(h!.calls(SEARCH)).toBe(1);

    h!.portal.faults.setUp();
    h!.clock.advance(5000);
    expect((await route(NUMBERS.acme)).body).toBe('102');
    expect(h!.calls(SEARCH)).toBe(2);
  });

  it('answers the caller name as empty within the deadline while the portal hangs', async () => {
    await start({ crm: { lookupDeadlineMs: 200 } });
    h!.portal.faults.setDown('hang');
    const res = await callerId(NUMBERS.olga);
    expect([res.status, res.body]).toEqual([200, '']);
  });
});

describe('the lookup cache', () => {
  it('answers from the cache without a second REST call, and asks again once the TTL has passed', async () => {
    await start({ crm: { cacheTtlSec: 300 }, manualClock: true });
    expect((await route(NUMBERS.olga)).body).toBe('101');
    expect((await callerId(NUMBERS.olga)).body).toBe('Olga Client');
    expect((await route('8 999 000 11 11')).body).toBe('101');
    expect(h!.calls(SEARCH)).toBe(1);

    h!.clock.advance(299_000);
    await route(NUMBERS.olga);
    expect(h!.calls(SEARCH)).toBe(1);
    h!.clock.advance(1_000);
    await route(NUMBERS.olga);
    expect(h!.calls(SEARCH)).toBe(2);
  });

  it('remembers "not in the CRM" for the shorter negative TTL', async () => {
    await start({ crm: { negativeCacheTtlSec: 60 }, manualClock: true });
    await route(NUMBERS.unknown);
    h!.clock.advance(59_000);
    await callerId(NUMBERS.unknown);
    expect(h!.calls(SEARCH)).toBe(1);
    h!.clock.advance(1_000);
    await route(NUMBERS.unknown);
    expect(h!.calls(SEARCH)).toBe(2);
  });

  it('shares one REST call between identical lookups in flight', async () => {
    await start();
    const answers = await Promise.all([route(NUMBERS.olga), callerId(NUMBERS.olga), route('89990001111')]);
    expect(answers.map((r) => r.body)).toEqual(['101', 'Olga Client', '101']);
    expect(h!.calls(SEARCH)).toBe(1);
  });
});

describe('GET /callerid', () => {
  it("answers the contact's name, the company's title, the lead's title, or nothing", async () => {
    await start();
    expect(await callerId(NUMBERS.olga)).toEqual({
      status: 200,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
      body: 'Olga Client',
    });
    expect((await callerId(NUMBERS.acme)).body).toBe('Acme LLC');
    expect((await callerId(NUMBERS.lead)).body).toBe('Website request');
    expect(await callerId(NUMBERS.unknown)).toMatchObject({ status: 200, body: '' });
  });

  it('never answers what would break the dialplan: no CR/LF, quotes, commas or parentheses', async () => {
    await start();
    const { body } = await callerId(NUMBERS.pavel);
    expect(body).toBe('Pavel The Boss Jr. Set X 1');
  });

  it('cuts the name to callerName.maxLength characters', async () => {
    await start({ crm: { callerName: { maxLength: 6 } } });
    expect((await callerId(NUMBERS.olga)).body).toBe('Olga C');
  });
});

describe('bad requests', () => {
  const bad: Array<[string, Record<string, string | string[]>, number, string]> = [
    ['a number with CR/LF', { number: '7999\r\n0001111' }, 400, 'INVALID_NUMBER'],
    ['a number with letters', { number: '7999abc1111' }, 400, 'INVALID_NUMBER'],
    ['a number with &', { number: '79990001111&x=1' }, 400, 'INVALID_NUMBER'],
    ['an over-long number', { number: '7'.repeat(65) }, 400, 'INVALID_NUMBER'],
    ['more digits than E.164 allows', { number: '7'.repeat(16) }, 400, 'INVALID_NUMBER'],
    ['a too short number', { number: '12' }, 400, 'INVALID_NUMBER'],
    ['an empty number', { number: '' }, 400, 'INVALID_NUMBER'],
    ['no number', {}, 400, 'BAD_REQUEST'],
    ['two numbers', { number: [NUMBERS.olga, NUMBERS.acme] }, 400, 'BAD_REQUEST'],
  ];

  it.each(bad)('answers %s with a 4xx error and no REST call', async (_name, query, status, code) => {
    await start();
    for (const path of ['/route', '/callerid']) {
      const res = await h!.crm.routes[`GET ${path}`]!(get(path, query));
      expect(res.status).toBe(status);
      expect(JSON.parse(String(res.body))).toMatchObject({ error: code });
      // The error never echoes the input.
      expect(String(res.body)).not.toMatch(/abc|\r|\n|x=1|7777777777/);
    }
    expect(h!.portal.requests).toHaveLength(0);
  });
});

describe('authentication', () => {
  it('with a token configured, refuses requests without it or with a wrong one (401) and asks nobody', async () => {
    await start({ crm: { lookupToken: TOKEN } });
    const attempts: Array<[Record<string, string>, string]> = [
      [{}, '203.0.113.9'],
      [{ 'x-token': 'wrong-token' }, '127.0.0.1'],
      [{ 'x-token': `${TOKEN}x` }, '203.0.113.9'],
      [{ 'x-token': '' }, '::1'],
    ];
    for (const [headers, remoteAddress] of attempts) {
      const res = await h!.crm.routes['GET /route']!(get('/route', { number: NUMBERS.olga }, { headers, remoteAddress }));
      expect(res.status).toBe(401);
      expect(JSON.parse(String(res.body))).toEqual({ error: 'UNAUTHORIZED', message: 'missing or wrong token' });
    }
    const wrongQuery = await h!.crm.routes['GET /callerid']!(get('/callerid', { number: NUMBERS.olga, token: 'nope' }));
    expect(wrongQuery.status).toBe(401);
    expect(h!.portal.requests).toHaveLength(0);
  });

  it('accepts the token in the query string or in the X-Token header', async () => {
    await start({ crm: { lookupToken: TOKEN } });
    const byQuery = await h!.crm.routes['GET /route']!(get('/route', { number: NUMBERS.olga, token: TOKEN }, { remoteAddress: '203.0.113.9' }));
    const byHeader = await h!.crm.routes['GET /callerid']!(get('/callerid', { number: NUMBERS.olga }, { headers: { 'x-token': TOKEN }, remoteAddress: '203.0.113.9' }));
    expect([byQuery.status, byQuery.body, byHeader.status, byHeader.body]).toEqual([200, '101', 200, 'Olga Client']);
  });

  it('without a token or allow list, answers this host only (403 for others)', async () => {
    await start();
    expect((await route(NUMBERS.olga, { remoteAddress: '127.0.0.1' })).status).toBe(200);
    expect((await route(NUMBERS.olga, { remoteAddress: '::1' })).status).toBe(200);
    const other = await route(NUMBERS.olga, { remoteAddress: '10.0.0.9' });
    expect([other.status, JSON.parse(String(other.body))]).toEqual([403, { error: 'FORBIDDEN', message: 'address not allowed' }]);
    expect(h!.calls(SEARCH)).toBe(1);
  });

  it('with http.allow, answers the listed peers only, and a presented wrong token is still refused', async () => {
    await start({ allow: ['10.0.0.0/8'], crm: { lookupToken: TOKEN } });
    expect((await route(NUMBERS.olga, { remoteAddress: '10.1.2.3' })).status).toBe(200);
    expect((await route(NUMBERS.olga, { remoteAddress: '::ffff:10.1.2.3' })).status).toBe(200);
    expect((await route(NUMBERS.olga, { remoteAddress: '192.168.1.5' })).status).toBe(401);
    expect((await route(NUMBERS.olga, { remoteAddress: '10.1.2.3', headers: { 'x-token': 'wrong' } })).status).toBe(401);
  });

  it('with http.allow and no token, refuses other peers with 403', async () => {
    await start({ allow: ['10.0.0.5'] });
    expect((await route(NUMBERS.olga, { remoteAddress: '10.0.0.5' })).status).toBe(200);
    expect((await route(NUMBERS.olga, { remoteAddress: '10.0.0.6' })).status).toBe(403);
  });

  it.each([
    ['http.allow lists only Bitrix24', { allow: ['185.5.0.0/16'] }],
    ['a token is configured', { crm: { lookupToken: TOKEN } }],
    ['both are configured', { allow: ['185.5.0.0/16'], crm: { lookupToken: TOKEN } }],
  ])('always answers the dialplan on this host without a token, even when %s', async (_name, cfg) => {
    await start(cfg);
    for (const remoteAddress of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) {
      const r = await route(NUMBERS.olga, { remoteAddress });
      const c = await h!.crm.routes['GET /callerid']!(get('/callerid', { number: NUMBERS.olga }, { remoteAddress }));
      expect([r.status, r.body, c.status, c.body]).toEqual([200, '101', 200, 'Olga Client']);
    }
    expect((await route(NUMBERS.olga, { remoteAddress: '10.9.9.9' })).status).toBe('crm' in cfg ? 401 : 403);
  });
});

describe('sanitizeCallerName', () => {
  it('keeps letters of any script, digits and harmless punctuation, and nothing that splits a dialplan', () => {
    expect(sanitizeCallerName('Ольга Петрова', 40)).toBe('Ольга Петрова');
    expect(sanitizeCallerName('Smith & Sons Ltd. #2', 40)).toBe('Smith & Sons Ltd. #2');
    expect(sanitizeCallerName('A"B\'C,D;E|F\\G', 40)).toBe('A B C D E F G');
    expect(sanitizeCallerName('x)?Hangup():y', 40)).toBe('x Hangup y');
    expect(sanitizeCallerName('Eve <666> ${SHELL(id)}', 40)).toBe('Eve 666 SHELL id');
    expect(sanitizeCallerName('Line1\r\nLine2\u0000\u202eevil', 40)).toBe('Line1 Line2 evil');
  });

  it('counts characters, not bytes or UTF-16 units, and never leaves a trailing space', () => {
    expect(sanitizeCallerName('Ёжик в тумане', 5)).toBe('Ёжик');
    expect(sanitizeCallerName('🙂🙂 Anna', 10)).toBe('Anna');
    expect(sanitizeCallerName('   ', 10)).toBe('');
  });
});
