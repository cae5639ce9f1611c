import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ariOriginator } from '../../src/clicktocall/ari.js';
import { OriginateError, type OriginateRequest } from '../../src/clicktocall/originate.js';

/** ARI originate against a tiny fake ARI over real HTTP. */

let server: Server | undefined;
afterEach(async () => {
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

async function fakeAri(status: number, body: string): Promise<{ url: string; seen: Array<{ url: string; auth: string; body: unknown }> }> {
  const seen: Array<{ url: string; auth: string; body: unknown }> = [];
  server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', auth: req.headers.authorization ?? '', body: JSON.parse(data) as unknown });
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}/ari/`, seen };
}

const req: OriginateRequest = {
  channel: 'PJSIP/101',
  context: 'outbound',
  exten: '79990001122',
  callerId: '+79990001122',
  timeoutMs: 30_000,
  channelId: 'c2c-0123456789abcdef-1-1',
  otherChannelId: 'c2c-0123456789abcdef-1-1-2',
  variables: { __B24_CALL_ID: 'externalCall.x.1' },
};

describe('ARI originator', () => {
  it('posts the two-leg originate to /ari/channels with basic auth and the timeout in seconds', async () => {
    const ari = await fakeAri(200, '{"id":"c2c-0123456789abcdef-1-1"}');
    await ariOriginator({ url: ari.url, username: 'bridge', password: 'pw' }).originate(req);
    expect(ari.seen).toEqual([
      {
        url: '/ari/channels',
        auth: `Basic ${Buffer.from('bridge:pw').toString('base64')}`,
        body: {
          endpoint: 'PJSIP/101',
          extension: '79990001122',
          context: 'outbound',
          priority: 1,
          callerId: '+79990001122',
          timeout: 30,
          channelId: req.channelId,
          otherChannelId: req.otherChannelId,
          variables: { __B24_CALL_ID: 'externalCall.x.1' },
        },
      },
    ]);
  });

  it('reports a refused originate as ORIGINATE_FAILED and an unreachable ARI as PBX_UNAVAILABLE', async () => {
    const ari = await fakeAri(400, '{"message":"Endpoint not found"}');
    const refused = await ariOriginator({ url: ari.url, username: 'u', password: 'p' }).originate(req).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OriginateError);
    expect(refused).toMatchObject({ code: 'ORIGINATE_FAILED', message: 'Asterisk (ARI) refused the originate: HTTP 400 Endpoint not found' });
    const down = await ariOriginator({ url: 'http://127.0.0.1:1/ari', username: 'u', password: 'p' }).originate(req).catch((e: unknown) => e);
    expect(down).toMatchObject({ code: 'PBX_UNAVAILABLE', mayStillRun: false });
  });

  it('reports an ARI that does not answer in time as PBX_UNAVAILABLE that may still run (it will be hung up)', async () => {
    // Accepts the request and never answers: a hung Asterisk.
    server = createServer(() => undefined);
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ari`;
    const late = await ariOriginator({ url, username: 'u', password: 'p', timeoutMs: 100 }).originate(req).catch((e: unknown) => e);
    expect(late).toMatchObject({ code: 'PBX_UNAVAILABLE', mayStillRun: true, message: 'Asterisk (ARI) did not answer the originate in time' });
    server.closeAllConnections();
  });
});
