/** Helpers for the emulator's application mode: an installed local app, token grants and app-auth calls. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BitrixEmulator, EmulatorOptions } from '../../../src/sim/bitrix-emulator.js';
import { parseStr } from '../../../src/sim/bitrix/php-form.js';
import { reply, startEmulator, type Reply } from './helpers.js';

export const CLIENT_ID = 'local.6667fc928a50a9.70414732';
export const CLIENT_SECRET = 'ZeKyeYIgy2NsHZqsIHY6GfG1Vtest';

export function startAppEmulator(options: EmulatorOptions = {}, app: Partial<NonNullable<EmulatorOptions['app']>> = {}): Promise<BitrixEmulator> {
  return startEmulator({ ...options, app: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, ...app } });
}

/** GET {oauthUrl}/oauth/token/?… as the docs show it. */
export async function tokenGet(emu: BitrixEmulator, params: Record<string, string>): Promise<Reply> {
  return reply(await fetch(`${emu.oauthUrl}/oauth/token/?${new URLSearchParams(params)}`));
}

/** POST form to the token endpoint. */
export async function tokenPost(emu: BitrixEmulator, params: Record<string, string>): Promise<Reply> {
  const body = new URLSearchParams(params).toString();
  return reply(await fetch(`${emu.oauthUrl}/oauth/token/`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body }));
}

export function refresh(emu: BitrixEmulator, refreshToken: string, overrides: Record<string, string> = {}): Promise<Reply> {
  return tokenGet(emu, { grant_type: 'refresh_token', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, refresh_token: refreshToken, ...overrides });
}

export type TokenForm = 'auth' | 'bearer' | 'access_token' | 'query';

/** POST {url}/rest/{method} with a JSON body and the token in the chosen place. */
export async function callApp(emu: BitrixEmulator, method: string, params: Record<string, unknown>, token: string | null, form: TokenForm = 'auth'): Promise<Reply> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  const body: Record<string, unknown> = { ...params };
  let url = `${emu.url}/rest/${method}`;
  if (token !== null) {
    if (form === 'bearer') headers.Authorization = `Bearer ${token}`;
    else if (form === 'query') url += `?auth=${encodeURIComponent(token)}`;
    else body[form] = token;
  }
  return reply(await fetch(url, { method: 'POST', headers, body: JSON.stringify(body) }));
}

/** A receiver for online events and the install callback: records every form-encoded POST, decoded. */
export interface Receiver {
  url: string;
  received: Array<{ path: string; contentType: string | undefined; body: string; form: Record<string, unknown> }>;
  close(): Promise<void>;
}

export async function startReceiver(status = 200): Promise<Receiver> {
  const received: Receiver['received'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      received.push({ path: req.url ?? '', contentType: req.headers['content-type'], body, form: parseStr(body) });
      res.writeHead(status).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
