import { errorResponse } from './errors.js';
import type { Route } from './types.js';

/**
 * Exact-match routing on `METHOD /path` keys, e.g. `{'POST /bitrix/events': events, 'GET /healthz': health}`.
 * Deliberately trivial: the bridge serves a handful of fixed paths, so others add /metrics or /route with one line.
 * An unknown path is 404, a known path with another method is 405 with an Allow header.
 */
export function createRouter(routes: Record<string, Route>): Route {
  const byPath = new Map<string, Map<string, Route>>();
  for (const [key, route] of Object.entries(routes)) {
    const m = /^([A-Z]+) (\/\S*)$/.exec(key);
    if (!m) throw new Error(`route key "${key}" must look like "POST /path"`);
    const [, method, path] = m as unknown as [string, string, string];
    let methods = byPath.get(path);
    if (!methods) byPath.set(path, (methods = new Map()));
    if (methods.has(method)) throw new Error(`route "${key}" is defined twice`);
    methods.set(method, route);
  }
  return (req) => {
    const methods = byPath.get(req.path);
    if (!methods) return errorResponse('NOT_FOUND', `no route for ${req.path.slice(0, 200)}`);
    // HEAD is answered like GET by the server (it drops the body), as node:http clients expect.
    const route = methods.get(req.method) ?? (req.method === 'HEAD' ? methods.get('GET') : undefined);
    if (!route) {
      return errorResponse('METHOD_NOT_ALLOWED', `${req.method.slice(0, 20)} is not allowed here`, { allow: [...methods.keys()].join(', ') });
    }
    return route(req);
  };
}
