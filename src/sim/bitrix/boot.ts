/** Start-up helpers of the emulator: listening, the app from its options, the last-resort error answer. */
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PortalApp } from './app/portal-app.js';
import type { AppOptions, SeedUser } from './types.js';

const REFRESH_TTL_SEC = 180 * 24 * 3600;

/** Listens and returns `http://host:port`. */
export async function listen(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const name = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${name}:${address.port}`;
}

/** Defaults: 1 h access, 180 days refresh (docs settings/oauth/auto-renewal.md). */
export function createApp(
  app: AppOptions,
  defaults: { scopes: string[]; userId: number; clock: () => number; users?: SeedUser[] },
): PortalApp {
  const userId = app.userId ?? defaults.userId;
  // Only an administrator can install a local app: a seed that does not say otherwise makes the installer one.
  const seed = defaults.users?.find((u) => Number(u.ID) === userId);
  const config = {
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    accessTtlMs: (app.accessTokenTtlSec ?? 3600) * 1000,
    refreshTtlMs: (app.refreshTokenTtlSec ?? REFRESH_TTL_SEC) * 1000,
    scopes: app.scopes ?? defaults.scopes,
    userId,
    installerIsAdmin: seed?.ADMIN !== false,
    name: app.name ?? 'Asterisk bridge',
    version: app.version ?? '1',
    oldAccessTokenValidAfterRefresh: app.oldAccessTokenValidAfterRefresh ?? true,
    handlerHostNeedsDot: app.handlerHostNeedsDot ?? true,
  };
  return new PortalApp(config, defaults.clock, app.handlerUrl);
}

/** An emulator bug must not crash the test process; answer like an unexpected PHP error. */
export function internalError(res: ServerResponse, err: unknown): void {
  const description = err instanceof Error ? err.message : String(err);
  if (!res.headersSent && !res.destroyed) {
    res.writeHead(500, { 'Content-Type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify({ error: 'ERROR_CORE', error_description: description }));
  }
}
