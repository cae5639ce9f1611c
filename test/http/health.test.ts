import { expect, it } from 'vitest';
import { createHealthRoute, type HealthStatus } from '../../src/http/health.js';
import type { HttpRequest } from '../../src/http/types.js';

const req = { method: 'GET', url: '/healthz', path: '/healthz', query: new URLSearchParams(), headers: {}, body: Buffer.alloc(0), remoteAddress: '127.0.0.1' } as unknown as HttpRequest;

it.each<[string, HealthStatus, number, string]>([
  ['both ends up and nothing wrong', { ami: true, portal: true, outboxDepth: 0 }, 200, 'ok'],
  ['a warning only (a parked command)', { ami: true, portal: true, outboxDepth: 0, problems: [{ kind: 'parked', text: 'parked x', degrading: false }] }, 200, 'ok'],
  ['a problem the admin must fix', { ami: true, portal: true, outboxDepth: 2, problems: [{ kind: 'authType', text: 'set bitrix.auth.mode: app', degrading: true }] }, 503, 'degraded'],
  ['AMI down', { ami: false, portal: true, outboxDepth: 0 }, 503, 'degraded'],
])('answers %s with its status and every problem listed', async (_what, status, code, word) => {
  const res = await createHealthRoute(() => status)(req);
  expect(res.status).toBe(code);
  const body = JSON.parse(res.body as string) as Record<string, unknown>;
  expect(body['status']).toBe(word);
  expect(body['problems']).toEqual(status.problems);
});
