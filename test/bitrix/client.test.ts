import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createBitrixClient,
  redactWebhookUrl,
  type BatchCommand,
  type BitrixClientOptions,
  type BitrixLogger,
  type RequestInfo,
} from '../../src/bitrix/client.js';
import { ref } from '../../src/bitrix/encode.js';
import { BitrixError } from '../../src/bitrix/errors.js';
import { LeakyBucket } from '../../src/bitrix/limiter.js';

const SECRET = 'k9x2secretw3bh00k';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;
interface Received {
  method: string | undefined;
  url: string | undefined;
  contentType: string | undefined;
  body: string;
}

let server: Server;
let port: number;
let handler: Handler;
let received: Received[];

function json(res: ServerResponse, status: number, payload: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(payload));
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      received.push({ method: req.method, url: req.url, contentType: req.headers['content-type'], body });
      handler(req, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

interface LogCall {
  level: string;
  obj: object;
  msg: string | undefined;
}

function recordingLogger(): { logger: BitrixLogger; calls: LogCall[] } {
  const calls: LogCall[] = [];
  const at = (level: string) => (obj: object, msg?: string) => calls.push({ level, obj, msg });
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, calls };
}

function setup(overrides: Partial<BitrixClientOptions> = {}) {
  received = [];
  handler = (_req, _body, res) => json(res, 200, { result: true });
  const limiter = new LeakyBucket({ perSecond: 2, burst: 50 }, Date.now);
  const { logger, calls } = recordingLogger();
  const requests: RequestInfo[] = [];
  const client = createBitrixClient({
    webhookUrl: `http://127.0.0.1:${port}/rest/1/${SECRET}/`,
    timeoutMs: 2000,
    limiter,
    logger,
    onRequest: (info) => requests.push(info),
    ...overrides,
  });
  return { client, limiter, logCalls: calls, requests };
}

async function failure(promise: Promise<unknown>): Promise<BitrixError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(BitrixError);
    return err as BitrixError;
  }
  throw new Error('expected the promise to reject');
}

describe('createBitrixClient call', () => {
  it('posts the params as JSON to the webhook URL plus method and returns the result member', async () => {
    const { client, requests } = setup();
    handler = (_req, _body, res) =>
      json(res, 200, { result: { CALL_ID: 'externalCall.1' }, time: { start: 1, finish: 2, duration: 1 } });

    const result = await client.call<{ CALL_ID: string }>('telephony.externalcall.register', {
      USER_PHONE_INNER: '101',
      TYPE: 2,
      SHOW: 0,
    });

    expect(result).toEqual({ CALL_ID: 'externalCall.1' });
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      method: 'POST',
      url: `/rest/1/${SECRET}/telephony.externalcall.register`,
      contentType: 'application/json',
    });
    expect(JSON.parse(received[0]?.body ?? '')).toEqual({ USER_PHONE_INNER: '101', TYPE: 2, SHOW: 0 });
    expect(requests).toEqual([
      { method: 'telephony.externalcall.register', status: 200, durationMs: expect.any(Number), waitedMs: 0 },
    ]);
  });

  it('adds the missing trailing slash to the webhook URL', async () => {
    const { client } = setup({ webhookUrl: `http://127.0.0.1:${port}/rest/1/${SECRET}` });
    handler = (_req, _body, res) => json(res, 200, { result: '2026-03-10T11:19:38+03:00' });
    await expect(client.call('server.time')).resolves.toBe('2026-03-10T11:19:38+03:00');
    expect(received[0]?.url).toBe(`/rest/1/${SECRET}/server.time`);
  });

  it('returns falsy results such as false and an empty list as they are', async () => {
    const { client } = setup();
    handler = (_req, _body, res) => json(res, 200, { result: false });
    await expect(client.call('telephony.externalcall.hide', { CALL_ID: 'x', USER_ID: 1 })).resolves.toBe(false);
    handler = (_req, _body, res) => json(res, 200, { result: [] });
    await expect(client.call('user.get', { FILTER: { UF_PHONE_INNER: '999' } })).resolves.toEqual([]);
  });

  it('turns a telephony error envelope with an empty code into a fatal contract error', async () => {
    const { client, requests } = setup();
    handler = (_req, _body, res) =>
      json(res, 400, { error: '', error_description: 'Call is not found (call should be registered prior to finishing' });

    const err = await failure(client.call('telephony.externalcall.finish', { CALL_ID: 'externalCall.1' }));
    expect(err).toMatchObject({
      kind: 'fatal',
      errorCode: 'CONTRACT',
      httpStatus: 400,
      code: '',
      description: 'Call is not found (call should be registered prior to finishing',
      method: 'telephony.externalcall.finish',
    });
    expect(requests[0]).toMatchObject({ status: 400, errorCode: 'CONTRACT' });
  });

  it('treats 401 INVALID_CREDENTIALS as a fatal auth error', async () => {
    const { client } = setup();
    handler = (_req, _body, res) => json(res, 401, { error: 'INVALID_CREDENTIALS', error_description: 'Invalid request credentials' });
    await expect(failure(client.call('profile'))).resolves.toMatchObject({ kind: 'fatal', errorCode: 'AUTH', httpStatus: 401 });
  });

  it('treats 503 QUERY_LIMIT_EXCEEDED as retryable, penalizes the limiter and does not retry by itself', async () => {
    const { client, limiter } = setup();
    handler = (_req, _body, res) => json(res, 503, { error: 'QUERY_LIMIT_EXCEEDED', error_description: 'Too many requests' });

    const err = await failure(client.call('telephony.externalcall.register', { USER_ID: 1 }));
    expect(err).toMatchObject({ kind: 'retryable', errorCode: 'RATE_LIMITED', httpStatus: 503, code: 'QUERY_LIMIT_EXCEEDED' });
    expect(received).toHaveLength(1);
    expect(limiter.level()).toBeGreaterThan(49);
    expect(limiter.reserve()).toBeGreaterThan(0);
  });

  it('does not penalize the limiter for other retryable failures', async () => {
    const { client, limiter } = setup();
    handler = (_req, _body, res) => json(res, 429, { error: 'OPERATION_TIME_LIMIT', error_description: 'Method is blocked' });
    await expect(failure(client.call('crm.lead.add'))).resolves.toMatchObject({ kind: 'retryable', errorCode: 'RATE_LIMITED' });
    expect(limiter.level()).toBeLessThanOrEqual(1);
  });

  it('treats a 500 as retryable whether or not it carries an envelope', async () => {
    const { client } = setup();
    handler = (_req, _body, res) => json(res, 500, { error: 'INTERNAL_SERVER_ERROR', error_description: 'Internal error' });
    await expect(failure(client.call('profile'))).resolves.toMatchObject({ kind: 'retryable', errorCode: 'PORTAL_UNAVAILABLE', httpStatus: 500 });

    handler = (_req, _body, res) => {
      res.writeHead(500, { 'content-type': 'text/html' });
      res.end('<html>oops</html>');
    };
    await expect(failure(client.call('profile'))).resolves.toMatchObject({
      kind: 'retryable',
      errorCode: 'PORTAL_UNAVAILABLE',
      httpStatus: 500,
      code: 'INVALID_RESPONSE',
    });
    expect(received).toHaveLength(2);
  });

  it('treats a non-JSON 200 body from a proxy as retryable', async () => {
    const { client } = setup();
    handler = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>maintenance</html>');
    };
    await expect(failure(client.call('profile'))).resolves.toMatchObject({
      kind: 'retryable',
      errorCode: 'PORTAL_UNAVAILABLE',
      code: 'INVALID_RESPONSE',
      httpStatus: 200,
    });
  });

  it('treats a JSON body that is not an envelope as retryable', async () => {
    const { client } = setup();
    handler = (_req, _body, res) => json(res, 200, { status: 'ok' });
    await expect(failure(client.call('profile'))).resolves.toMatchObject({ kind: 'retryable', code: 'INVALID_RESPONSE' });
  });

  it('treats a connection reset as a retryable network error and sends only once', async () => {
    const { client, requests } = setup();
    handler = (req) => req.socket.destroy();
    const err = await failure(client.call('telephony.externalcall.register', { USER_ID: 1 }));
    expect(err).toMatchObject({ kind: 'retryable', errorCode: 'NETWORK', code: 'ECONNRESET' });
    expect(err.httpStatus).toBeUndefined();
    expect(received).toHaveLength(1);
    expect(requests[0]).toMatchObject({ status: 0, errorCode: 'NETWORK' });
  });

  it('treats a refused connection as a retryable network error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const { client } = setup({ webhookUrl: `http://127.0.0.1:${closedPort}/rest/1/${SECRET}/` });
    await expect(failure(client.call('profile'))).resolves.toMatchObject({
      kind: 'retryable',
      errorCode: 'NETWORK',
      code: 'ECONNREFUSED',
    });
  });

  it('treats a request that outlives timeoutMs as a retryable timeout', async () => {
    const { client } = setup({ timeoutMs: 150 });
    handler = () => {
      /* never answer */
    };
    const started = Date.now();
    const err = await failure(client.call('telephony.externalcall.register', { USER_ID: 1 }));
    expect(err).toMatchObject({ kind: 'retryable', errorCode: 'TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(received).toHaveLength(1);
  });

  it('does not follow redirects and reports them as a fatal misconfiguration', async () => {
    const { client } = setup();
    handler = (_req, _body, res) => {
      res.writeHead(302, { location: `http://127.0.0.1:${port}/elsewhere/` });
      res.end();
    };
    await expect(failure(client.call('profile'))).resolves.toMatchObject({ kind: 'fatal', errorCode: 'CONTRACT', httpStatus: 302 });
    expect(received).toHaveLength(1);
  });

  it('waits for the limiter before sending and reports the wait', async () => {
    let clock = 0;
    const limiter = new LeakyBucket({ perSecond: 2, burst: 2, safety: 1 }, () => clock);
    const slept: number[] = [];
    const { client, requests } = setup({
      limiter,
      sleep: async (ms) => {
        slept.push(ms);
        clock += ms;
      },
    });
    await client.call('profile');
    await client.call('profile');
    expect(slept).toEqual([500]);
    expect(requests.map((r) => r.waitedMs)).toEqual([0, 500]);
  });

  it('rejects method names that would change the URL without sending anything', async () => {
    const { client } = setup();
    await expect(client.call('../../other/profile')).rejects.toThrow(TypeError);
    expect(received).toHaveLength(0);
  });
});

describe('createBitrixClient batch', () => {
  const commands: BatchCommand[] = [
    { key: 'reg', method: 'telephony.externalcall.register', params: { USER_PHONE_INNER: '101', PHONE_NUMBER: '+15550100000', TYPE: 1 } },
    { key: 'fin', method: 'telephony.externalcall.finish', params: { CALL_ID: ref('reg', 'CALL_ID'), USER_ID: 1, DURATION: 5 } },
  ];

  it('sends cmd strings with halt and unencoded back-references in a JSON body', async () => {
    const { client, requests } = setup();
    handler = (_req, _body, res) =>
      json(res, 200, { result: { result: { reg: { CALL_ID: 'c1' }, fin: { CALL_ID: 'c1' } }, result_error: [], result_total: [], result_next: [], result_time: [] } });

    const outcome = await client.batch(commands, { halt: true });

    expect(received[0]?.url).toBe(`/rest/1/${SECRET}/batch`);
    expect(JSON.parse(received[0]?.body ?? '')).toEqual({
      halt: 1,
      cmd: {
        reg: 'telephony.externalcall.register?USER_PHONE_INNER=101&PHONE_NUMBER=%2B15550100000&TYPE=1',
        fin: 'telephony.externalcall.finish?CALL_ID=$result[reg][CALL_ID]&USER_ID=1&DURATION=5',
      },
    });
    expect(outcome).toEqual({ results: { reg: { CALL_ID: 'c1' }, fin: { CALL_ID: 'c1' } }, errors: {} });
    expect(requests[0]).toMatchObject({ method: 'batch', status: 200, batchSize: 2 });
  });

  it('classifies each result_error entry like a top-level error, without an HTTP status', async () => {
    const { client } = setup();
    handler = (_req, _body, res) =>
      json(res, 200, {
        result: {
          result: { reg: { CALL_ID: 'c1' } },
          result_error: {
            fin: { error: '', error_description: 'Call is not found (call should be registered prior to finishing' },
            lim: { error: 'query_limit_exceeded', error_description: 'Too many requests' },
          },
          result_total: [],
          result_next: [],
          result_time: { reg: { start: 1 } },
        },
      });

    const outcome = await client.batch([...commands, { key: 'lim', method: 'user.get', params: {} }]);

    expect(outcome.results).toEqual({ reg: { CALL_ID: 'c1' } });
    expect(Object.keys(outcome.errors)).toEqual(['fin', 'lim']);
    expect(outcome.errors.fin).toMatchObject({ kind: 'fatal', errorCode: 'CONTRACT', code: '', method: 'telephony.externalcall.finish' });
    expect(outcome.errors.fin?.httpStatus).toBeUndefined();
    expect(outcome.errors.lim).toMatchObject({ kind: 'retryable', errorCode: 'RATE_LIMITED', method: 'user.get' });
  });

  it('reads [] members as empty, including a batch where every command failed', async () => {
    const { client } = setup();
    handler = (_req, _body, res) =>
      json(res, 200, {
        result: {
          result: [],
          result_error: { reg: { error: 'insufficient_scope', error_description: 'The request requires higher privileges' } },
          result_total: [],
          result_next: [],
          result_time: [],
        },
      });
    const outcome = await client.batch(commands.slice(0, 1));
    expect(outcome.results).toEqual({});
    expect(outcome.errors.reg).toMatchObject({ kind: 'fatal', errorCode: 'AUTH' });
  });

  it('maps the array form of result.result to the numeric command keys', async () => {
    const { client } = setup();
    handler = (_req, _body, res) =>
      json(res, 200, { result: { result: [{ ID: '1' }, true], result_error: [], result_total: [], result_next: [], result_time: [] } });
    const outcome = await client.batch([
      { key: '0', method: 'profile', params: {} },
      { key: '1', method: 'telephony.externalcall.show', params: { CALL_ID: 'c1', USER_ID: [1, 2] } },
    ]);
    expect(outcome).toEqual({ results: { '0': { ID: '1' }, '1': true }, errors: {} });
    expect(JSON.parse(received[0]?.body ?? '')).toMatchObject({
      halt: 0,
      cmd: { '0': 'profile', '1': 'telephony.externalcall.show?CALL_ID=c1&USER_ID[0]=1&USER_ID[1]=2' },
    });
  });

  it('throws for a batch error envelope as for a call', async () => {
    const { client, limiter } = setup();
    handler = (_req, _body, res) => json(res, 503, { error: 'QUERY_LIMIT_EXCEEDED', error_description: 'Too many requests' });
    await expect(failure(client.batch(commands))).resolves.toMatchObject({ kind: 'retryable', method: 'batch', httpStatus: 503 });
    expect(limiter.level()).toBeGreaterThan(49);
  });

  it('refuses more than 50 commands before sending or using the limiter', async () => {
    const { client, limiter } = setup();
    const many = Array.from({ length: 51 }, (_, i): BatchCommand => ({ key: `c${i}`, method: 'profile', params: {} }));
    await expect(client.batch(many)).rejects.toThrow(RangeError);
    expect(received).toHaveLength(0);
    expect(limiter.level()).toBe(0);
    handler = (_req, _body, res) => json(res, 200, { result: { result: [], result_error: [] } });
    await expect(client.batch(many.slice(0, 50))).resolves.toEqual({ results: {}, errors: {} });
    expect(received).toHaveLength(1);
  });

  it('refuses duplicate and unsafe command keys', async () => {
    const { client } = setup();
    await expect(client.batch([commands[0]!, commands[0]!])).rejects.toThrow(/duplicate/);
    await expect(client.batch([{ key: 'a]b', method: 'profile', params: {} }])).rejects.toThrow(TypeError);
    expect(received).toHaveLength(0);
  });
});

describe('webhook secret hygiene', () => {
  it('never puts the webhook code in log lines or error messages', async () => {
    const { logger, calls: logCalls } = recordingLogger();
    const { client } = setup({ logger });
    const errors: unknown[] = [];
    const collect = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (err) {
        errors.push(err);
      }
    };

    handler = (_req, _body, res) => json(res, 200, { result: 1 });
    await collect(client.call('profile'));
    handler = (req, _body, res) => json(res, 400, { error: '', error_description: `bad request to ${req.url}` });
    await collect(client.call('telephony.externalcall.finish'));
    handler = (req, _body, res) =>
      json(res, 200, { result: { result: [], result_error: { a: { error: 'ERROR_CORE', error_description: `see http://127.0.0.1:${port}${req.url}` } } } });
    const outcome = await client.batch([{ key: 'a', method: 'profile', params: {} }]);
    errors.push(...Object.values(outcome.errors));
    handler = (req) => req.socket.destroy();
    await collect(client.call('profile'));
    handler = (_req, _body, res) => {
      res.writeHead(502);
      res.end(`<html>upstream /rest/1/${SECRET}/ failed</html>`);
    };
    await collect(client.call('profile'));
    const slow = setup({ timeoutMs: 100, logger });
    handler = () => {};
    await collect(slow.client.call('profile'));

    expect(errors).toHaveLength(5);
    expect(logCalls.length).toBeGreaterThanOrEqual(5);
    for (const err of errors) {
      const e = err as BitrixError;
      expect(e.message).not.toContain(SECRET);
      expect(e.stack ?? '').not.toContain(SECRET);
      expect(e.description).not.toContain(SECRET);
      expect(JSON.stringify(e)).not.toContain(SECRET);
    }
    expect(JSON.stringify(logCalls)).not.toContain(SECRET);
    expect(JSON.stringify(logCalls)).toContain('"method":"telephony.externalcall.finish"');
    // The echoed URL is scrubbed rather than dropped, so the rest of the description survives.
    expect((errors[0] as BitrixError).description).toBe('bad request to ***telephony.externalcall.finish');
  });

  it('does not reveal the webhook URL when it is invalid', () => {
    expect(() =>
      createBitrixClient({ webhookUrl: `not a url ${SECRET}`, limiter: new LeakyBucket({ perSecond: 2, burst: 50 }) }),
    ).toThrow(/^webhookUrl is not a valid URL$/);
  });

  it('redacts the webhook code for display', () => {
    expect(redactWebhookUrl(`https://example.bitrix24.eu/rest/1/${SECRET}/`)).toBe('https://example.bitrix24.eu/rest/1/***/');
    expect(redactWebhookUrl(`https://user:pw@example.bitrix24.eu:8443/rest/17/${SECRET}`)).toBe(
      'https://example.bitrix24.eu:8443/rest/17/***/',
    );
    expect(redactWebhookUrl(`https://example.com/custom/${SECRET}/`)).toBe('https://example.com/***');
    expect(redactWebhookUrl(`garbage ${SECRET}`)).toBe('***');
  });

  it('accepts a pino logger as its logger', () => {
    const logger: BitrixLogger = pino({ enabled: false });
    expect(() => setup({ logger })).not.toThrow();
  });
});
