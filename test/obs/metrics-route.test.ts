import { describe, expect, it } from 'vitest';
import type { HttpRequest } from '../../src/http/types.js';
import { createMetrics } from '../../src/obs/metrics.js';
import { metricsRoute } from '../../src/obs/metrics-route.js';

const request = (method: string): HttpRequest => ({
  method,
  path: '/metrics',
  query: new URLSearchParams(),
  headers: {},
  remoteAddress: '127.0.0.1',
  body: Buffer.alloc(0),
});

describe('GET /metrics', () => {
  it('answers 200 with the Prometheus text exposition and its content type', async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.onRequest({ method: 'batch', status: 200, durationMs: 5, waitedMs: 0 });
    const res = await metricsRoute(metrics)(request('GET'));
    expect(res.status).toBe(200);
    expect(res.headers).toEqual({ 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' });
    expect(res.body).toContain('# TYPE b24bridge_rest_requests_total counter');
    expect(res.body).toContain('b24bridge_rest_requests_total{method="batch",status="200"} 1');
  });

  it('answers HEAD with the same headers and no body', async () => {
    const res = await metricsRoute(createMetrics({ processMetrics: false }))(request('HEAD'));
    expect(res).toEqual({ status: 200, headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' }, body: '' });
  });

  it('refuses other methods with 405 and an Allow header', async () => {
    const res = await metricsRoute(createMetrics({ processMetrics: false }))(request('POST'));
    expect(res).toEqual({ status: 405, headers: { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }, body: 'method not allowed\n' });
  });

  it('answers 500 when a collector throws, and the next scrape works again', async () => {
    const metrics = createMetrics({ processMetrics: false });
    let broken = true;
    metrics.observeRuntime(() => {
      if (broken) throw new Error('stats unavailable');
      return { events: 1, cardsShown: 0, cardsHidden: 0, callsFinished: 0, unmappedExtensions: 0, poisonedCalls: 0, eventErrors: 0, evictedCalls: 0, evictedChannels: 0 };
    });
    const route = metricsRoute(metrics);
    expect(await route(request('GET'))).toEqual({ status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'metrics collection failed: stats unavailable\n' });
    broken = false;
    const res = await route(request('GET'));
    expect(res.status).toBe(200);
    expect(res.body).toContain('b24bridge_ami_events_total 1');
  });
});
