/**
 * The authorization server (oauth.bitrix.info in the cloud) on its own port: `GET|POST /oauth/token/` with
 * `grant_type=refresh_token` or `authorization_code` (docs settings/oauth/index.md, auto-renewal.md,
 * error-codes.md). Success is 200 with the captured field order (b24-rest-docs #285): access_token, expires,
 * expires_in, scope, domain (the server's own host), server_endpoint, status, client_endpoint, member_id, user_id,
 * refresh_token. Faults and lost answers have their own controls (a lost refresh answer burns the refresh token).
 */
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { FaultControls, Faults } from '../faults.js';
import { phpString, type Params } from '../php.js';
import { requestParams } from '../request-params.js';
import { readBody } from '../server.js';
import type { PortalApp } from './portal-app.js';
import type { IssuedPair } from './tokens.js';

export interface OAuthRequestRecord {
  at: number;
  method: string;
  path: string;
  /** '' when absent. */
  grantType: string;
  /** 0 when the connection was reset. */
  status: number;
  /** The `error` code of a refusal. */
  error?: string;
  answerLost?: boolean;
}

export interface OAuthServerDeps {
  clock: () => number;
  app: PortalApp | null;
  faults: Faults;
  requests: OAuthRequestRecord[];
  /** `http://host:port` of this server. */
  url: () => string;
  clientEndpoint: string;
  memberId: string;
  isClosing: () => boolean;
}

/** The authorization server's side, for assertions and its own faults. */
export interface OAuthView {
  /** Successful refresh_token grants. */
  readonly refreshes: number;
  /** Successful authorization_code grants. */
  readonly codeExchanges: number;
  /** Every request the authorization server saw (no tokens or secrets in it). */
  readonly requests: OAuthRequestRecord[];
  readonly faults: FaultControls;
  /** Issue order (1, 2, …) of an access token, the numbers of `emulator.requests[i].auth.tokenSerial`. */
  serialOf(accessToken: string): number | undefined;
}

export function oauthView(app: PortalApp | null, faults: FaultControls): OAuthView {
  return {
    get refreshes() {
      return app?.tokens.refreshes ?? 0;
    },
    get codeExchanges() {
      return app?.tokens.codeExchanges ?? 0;
    },
    requests: [],
    faults,
    serialOf: (token) => app?.tokens.serialOf(token),
  };
}

const TOKEN_ROUTE = /^\/oauth\/token\/?$/;

/**
 * Statuses: invalid_grant 400 and invalid_client 401 as the official PHP SDK (bitrix24/b24phpsdk
 * ApiLevelErrorHandler::handleOAuthError) expects them; descriptions are best guesses (the docs only promise the
 * `error_description` field). An expired code answers `expired_token` (a captured answer, OpenIntegrations docs).
 */
const ERRORS: Record<string, { status: number; description: string }> = {
  invalid_request: { status: 400, description: 'Invalid grant_type parameter or parameter missing' },
  invalid_client: { status: 401, description: 'The client credentials are invalid' },
  invalid_grant: { status: 400, description: 'The authorization grant is invalid, expired or revoked' },
  expired_token: { status: 400, description: 'The authorization token provided has expired.' },
};

export async function handleOAuthRequest(deps: OAuthServerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://oauth.local');
  const record: OAuthRequestRecord = { at: deps.clock(), method: req.method ?? 'GET', path: url.pathname, grantType: '', status: 0 };
  deps.requests.push(record);

  // A reset, or a client that gave up (or an emulator closing) during a hang, gets nothing.
  const fault = await deps.faults.admit(req.socket, deps.isClosing);
  if (fault === null) return;
  const body = (await readBody(req, 1024 * 1024)) ?? Buffer.alloc(0);
  const params = requestParams(record.method, url.search, req.headers['content-type'], body).params;
  record.grantType = phpString(params.grant_type);
  if (fault?.kind === 'down') return send(res, record, fault.status, `<html><body><h1>${fault.status} ${STATUS_CODES[fault.status] ?? ''}</h1></body></html>`);
  if (fault?.kind === 'fail') return send(res, record, fault.status, fault.body);
  if (!TOKEN_ROUTE.test(url.pathname)) return send(res, record, 404, '<html><body><h1>404 Not Found</h1></body></html>');

  const answer = grant(deps, params);
  if (typeof answer === 'string') {
    const spec = ERRORS[answer] ?? { status: 400, description: answer };
    record.error = answer;
    return send(res, record, spec.status, { error: answer, error_description: spec.description });
  }
  if (deps.faults.loseAnswer(record.grantType, params)) {
    record.answerLost = true;
    return void req.socket.resetAndDestroy();
  }
  return send(res, record, 200, tokenBody(deps, answer));
}

/** The grant's token pair, or the error code. */
function grant(deps: OAuthServerDeps, params: Params): IssuedPair | string {
  const grantType = phpString(params.grant_type);
  if (grantType !== 'refresh_token' && grantType !== 'authorization_code') return 'invalid_request';
  const app = deps.app;
  if (!app || !app.credentialsMatch(phpString(params.client_id), phpString(params.client_secret))) return 'invalid_client';
  if (grantType === 'refresh_token') {
    const token = phpString(params.refresh_token);
    return token === '' ? 'invalid_request' : app.tokens.useRefreshToken(token);
  }
  const code = phpString(params.code);
  return code === '' ? 'invalid_request' : app.tokens.useCode(code);
}

export function tokenBody(deps: Pick<OAuthServerDeps, 'app' | 'url' | 'clientEndpoint' | 'memberId'>, pair: IssuedPair): Record<string, unknown> {
  const server = deps.url();
  return {
    access_token: pair.accessToken,
    expires: pair.expires,
    expires_in: pair.expiresIn,
    scope: deps.app?.scopeList ?? '',
    domain: new URL(server).host,
    server_endpoint: `${server}/rest/`,
    status: 'L',
    client_endpoint: deps.clientEndpoint,
    member_id: deps.memberId,
    user_id: pair.userId,
    refresh_token: pair.refreshToken,
  };
}

function send(res: ServerResponse, record: OAuthRequestRecord, status: number, body: unknown): void {
  record.status = status;
  if (res.destroyed) return;
  const html = typeof body === 'string';
  res.writeHead(status, { 'Content-Type': `${html ? 'text/html' : 'application/json'}; charset=utf-8` });
  res.end(html ? body : JSON.stringify(body));
}
