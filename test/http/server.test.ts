import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { startHttpServer, type HttpLimits, type RunningHttpServer } from '../../src/http/server.js';
import type { HttpRequest, Route } from '../../src/http/types.js';
import { silentLogger } from '../support/logger.js';
import { sleep } from '../support/wait.js';

let server: RunningHttpServer | undefined;

afterEach(async () => {
  await server?.close(100);
  server = undefined;
});

async function start(route: Route, limits: Partial<HttpLimits> = {}): Promise<RunningHttpServer> {
  server = await startHttpServer({ host: '127.0.0.1', port: 0, route, limits, logger: silentLogger });
  return server;
}

/** Writes raw bytes and collects everything the server sends until it closes (or the deadline). */
function raw(port: number, chunks: Array<string | Buffer>, opts: { deadlineMs?: number; gapMs?: number } = {}): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let out = '';
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(out);
    };
    const timer = setTimeout(done, opts.deadlineMs ?? 3000);
    socket.on('data', (d) => (out += d.toString('latin1')));
    socket.on('close', done);
    socket.on('error', () => undefined);
    socket.on('connect', async () => {
      for (const c of chunks) {
        if (socket.destroyed) return;
        socket.write(c);
        if (opts.gapMs) await sleep(opts.gapMs);
      }
    });
  });
}

const statusOf = (response: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);
const bodyOf = (response: string) => JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;

describe('the HTTP server', () => {
  it('hands the route a plain request and writes its response', async () => {
    let seen: HttpRequest | undefined;
    const s = await start((req) => {
      seen = req;
      return { status: 201, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' };
    });
    const res = await fetch(`http://127.0.0.1:${s.port}/a/b?x=1&y=2`, { method: 'POST', headers: { 'X-Thing': 'v' }, body: 'hello=world' });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ ok: true });
    expect(seen).toMatchObject({ method: 'POST', path: '/a/b', remoteAddress: '127.0.0.1' });
    expect(seen!.query.get('y')).toBe('2');
    expect(seen!.headers['x-thing']).toBe('v');
    expect(seen!.body.toString()).toBe('hello=world');
  });

  it('listens on the configured host only', async () => {
    const s = await start(() => ({ status: 200, body: 'ok' }));
    expect(s.host).toBe('127.0.0.1');
    const refused = await new Promise<boolean>((resolve) => {
      const socket = net.connect(s.port, '::1');
      socket.on('connect', () => (socket.destroy(), resolve(false)));
      socket.on('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  });

  it('answers 413 to a declared body over the cap without calling the route', async () => {
    let calls = 0;
    const s = await start(() => (calls++, { status: 200, body: 'ok' }), { maxBodyBytes: 1024 });
    const res = await raw(s.port, [`POST /x HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n`, 'x'.repeat(4096)]);
    expect(statusOf(res)).toBe(413);
    expect(bodyOf(res)).toEqual({ error: 'PAYLOAD_TOO_LARGE', message: 'request body exceeds 1024 bytes' });
    expect(res).toMatch(/connection: close/i);
    expect(calls).toBe(0);
  });

  it('stops reading a chunked body once it passes the cap', async () => {
    let calls = 0;
    const s = await start(() => (calls++, { status: 200, body: 'ok' }), { maxBodyBytes: 1024 });
    const chunk = `800\r\n${'y'.repeat(0x800)}\r\n`;
    const res = await raw(s.port, [`POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n`, chunk, chunk, chunk]);
    expect(statusOf(res)).toBe(413);
    expect(calls).toBe(0);
  });

  it('rate-limits each address with 429 and a Retry-After', async () => {
    const s = await start(() => ({ status: 200, body: 'ok' }), { perAddressPerMinute: 2 });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`http://127.0.0.1:${s.port}/`)).status);
    expect(statuses).toEqual([200, 200, 429]);
    const limited = await fetch(`http://127.0.0.1:${s.port}/`);
    expect(limited.headers.get('retry-after')).toBe('30');
    expect(await limited.json()).toEqual({ error: 'RATE_LIMITED', message: 'too many requests' });
  });

  it('answers 408 and closes a connection whose headers never finish', async () => {
    const s = await start(() => ({ status: 200, body: 'ok' }), { headersTimeoutMs: 300, requestTimeoutMs: 600 });
    const started = Date.now();
    const res = await raw(s.port, ['GET / HTTP/1.1\r\nHost: a\r\nX-Slow: '], { deadlineMs: 4000 });
    expect(statusOf(res)).toBe(408);
    expect(bodyOf(res)).toMatchObject({ error: 'REQUEST_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('answers 408 when the body stalls past the request timeout', async () => {
    let calls = 0;
    const s = await start(() => (calls++, { status: 200, body: 'ok' }), { headersTimeoutMs: 300, requestTimeoutMs: 500 });
    const res = await raw(s.port, ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc'], { deadlineMs: 4000 });
    expect(statusOf(res)).toBe(408);
    expect(calls).toBe(0);
  });

  it('survives garbage, oversized headers and a throwing route, and keeps serving', async () => {
    const s = await start((req) => {
      if (req.path === '/boom') throw new Error('bug');
      return { status: 200, body: 'fine' };
    }, { maxHeaderBytes: 2048 });
    expect(statusOf(await raw(s.port, ['NOT HTTP AT ALL\r\n\r\n']))).toBe(400);
    expect(statusOf(await raw(s.port, [`GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'z'.repeat(4096)}\r\n\r\n`]))).toBe(431);
    const boom = await fetch(`http://127.0.0.1:${s.port}/boom`);
    expect(boom.status).toBe(500);
    expect(await boom.json()).toEqual({ error: 'INTERNAL', message: 'internal error' });
    const fine = await fetch(`http://127.0.0.1:${s.port}/`);
    expect(await fine.text()).toBe('fine');
  });

  it('answers HEAD without a body', async () => {
    const s = await start(() => ({ status: 200, body: 'some body' }));
    const res = await raw(s.port, ['HEAD / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n']);
    expect(statusOf(res)).toBe(200);
    expect(res).toMatch(/content-length: 9/i);
    expect(res.endsWith('\r\n\r\n')).toBe(true);
  });
});

describe('streamed responses (server-sent events)', () => {
  it('stay open past the request timeout, carry what the stream writes, and are ended first on close', async () => {
    let write: ((chunk: string) => boolean) | undefined;
    let closedSeen = false;
    const s = await start(
      () => ({
        status: 200,
        headers: { 'content-type': 'text/event-stream' },
        body: 'retry: 3000\n\n',
        stream: (sink) => {
          write = sink.write;
          sink.onClose(() => (closedSeen = true));
        },
      }),
      { headersTimeoutMs: 200, requestTimeoutMs: 300 },
    );
    const received = raw(s.port, ['GET /status/events HTTP/1.1\r\nHost: x\r\n\r\n'], { deadlineMs: 5000 });
    await sleep(700); // over twice the request timeout
    expect(write?.('event: status\ndata: {}\n\n')).toBe(true);
    await sleep(50);
    // A grace far past the test's timeout: close() resolves only because it ends the open stream itself.
    await s.close(600_000);
    server = undefined;
    const text = await received;
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text).toContain('content-type: text/event-stream');
    expect(text).not.toMatch(/content-length/i);
    expect(text).toContain('retry: 3000');
    expect(text).toContain('event: status\ndata: {}');
    expect(closedSeen).toBe(true);
    expect(write?.('late')).toBe(false);
  });

  it('a HEAD request or an error status gets a plain response, no stream', async () => {
    let opened = 0;
    const s = await start((req) => ({ status: req.path === '/bad' ? 429 : 200, body: 'x', stream: () => void opened++ }));
    expect(await raw(s.port, ['HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'])).toMatch(/content-length: 1/i);
    expect(await raw(s.port, ['GET /bad HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'])).toMatch(/^HTTP\/1\.1 429/);
    expect(opened).toBe(0);
  });
});
