import { describe, expect, it } from 'vitest';
import { errorResponse, HttpError, fromHttpError, STATUS_OF } from '../../src/http/errors.js';
import { createHealthRoute } from '../../src/http/health.js';
import { createRouter } from '../../src/http/router.js';
import type { HttpRequest } from '../../src/http/types.js';

const req = (method: string, path: string): HttpRequest => ({ method, path, query: new URLSearchParams(), headers: {}, remoteAddress: '127.0.0.1', body: Buffer.alloc(0) });

describe('router', () => {
  const router = createRouter({
    'POST /bitrix/events': () => ({ status: 200, body: 'events' }),
    'GET /healthz': () => ({ status: 200, body: 'health' }),
  });

  it('dispatches on method and exact path', async () => {
    expect((await router(req('POST', '/bitrix/events'))).body).toBe('events');
    expect((await router(req('GET', '/healthz'))).body).toBe('health');
    expect((await router(req('HEAD', '/healthz'))).body).toBe('health');
  });

  it('answers 404 JSON for an unknown path and 405 with Allow for a wrong method', async () => {
    const missing = await router(req('GET', '/nope'));
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body as string)).toMatchObject({ error: 'NOT_FOUND' });
    const wrong = await router(req('GET', '/bitrix/events'));
    expect(wrong.status).toBe(405);
    expect(wrong.headers).toMatchObject({ allow: 'POST' });
    expect(JSON.parse(wrong.body as string)).toMatchObject({ error: 'METHOD_NOT_ALLOWED' });
  });

  it('refuses malformed route keys at start', () => {
    expect(() => createRouter({ 'post /x': () => ({ status: 200, body: '' }) })).toThrow(/POST \/path/);
  });
});

describe('error codes', () => {
  it('turn into their statuses in one place', () => {
    expect(STATUS_OF.UNAUTHORIZED).toBe(401);
    expect(STATUS_OF.DUPLICATE).toBe(409);
    expect(STATUS_OF.PBX_UNAVAILABLE).toBe(503);
    const r = fromHttpError(new HttpError('RATE_LIMITED', 'slow down', { 'retry-after': '3' }));
    expect(r).toEqual({
      status: 429,
      headers: { 'content-type': 'application/json; charset=utf-8', 'retry-after': '3' },
      body: JSON.stringify({ error: 'RATE_LIMITED', message: 'slow down' }),
    });
    expect(errorResponse('INVALID_NUMBER', 'x').status).toBe(400);
  });
});

describe('health route', () => {
  it('is 200 when AMI and the portal are up and 503 with the details when one is down', async () => {
    let status = { ami: true, portal: true, outboxDepth: 0 } as { ami: boolean; portal: boolean; outboxDepth: number; lastError?: string };
    const route = createHealthRoute(() => status);
    const up = await route(req('GET', '/healthz'));
    expect(up.status).toBe(200);
    expect(JSON.parse(up.body as string)).toEqual({ status: 'ok', ami: true, portal: true, outboxDepth: 0 });
    status = { ami: false, portal: true, outboxDepth: 4, lastError: 'AMI disconnected' };
    const down = await route(req('GET', '/healthz'));
    expect(down.status).toBe(503);
    expect(JSON.parse(down.body as string)).toEqual({ status: 'degraded', ami: false, portal: true, outboxDepth: 4, lastError: 'AMI disconnected' });
  });
});
