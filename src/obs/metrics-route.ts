import type { HttpRequest, HttpResponse, Route } from '../http/types.js';

/**
 * GET /metrics: the Prometheus text exposition of one daemon's registry. The source is passed in (no global
 * registry), so a test scrapes exactly what it drove. HEAD is answered like GET without a body.
 * The listener binds to 127.0.0.1 by default; expose it further only behind a proxy or a firewall rule.
 */
export interface MetricsSource {
  contentType: string;
  scrape(): Promise<string>;
}

export function metricsRoute(source: MetricsSource): Route {
  return async (req: HttpRequest): Promise<HttpResponse> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return { status: 405, headers: { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }, body: 'method not allowed\n' };
    }
    let text: string;
    try {
      text = await source.scrape();
    } catch (err) {
      // A collector that throws must cost one scrape, not the daemon; Prometheus records the failed scrape.
      const reason = err instanceof Error ? err.message : String(err);
      return { status: 500, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: `metrics collection failed: ${reason}\n` };
    }
    return {
      status: 200,
      headers: { 'content-type': source.contentType, 'cache-control': 'no-store' },
      body: req.method === 'HEAD' ? '' : text,
    };
  };
}
