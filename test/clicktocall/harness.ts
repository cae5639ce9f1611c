import { AmiConnection } from '../../src/ami/connection.js';
import { ClickToCall, type ClickToCallDeps } from '../../src/clicktocall/service.js';
import { amiHangup, amiOriginator } from '../../src/clicktocall/originate.js';
import { createEventsRoute } from '../../src/clicktocall/routes.js';
import { clickToCallSchema } from '../../src/config/http.js';
import type { CoreInput } from '../../src/core/events.js';
import { createAddressMatcher } from '../../src/http/auth.js';
import type { HttpLogger, HttpRequest, HttpResponse, Route } from '../../src/http/types.js';
import { startAmiSimulator, type AmiSimulator, type OnAction } from '../../src/sim/ami-simulator.js';
import { buildQuery } from '../../src/sim/bitrix/php-form.js';
import type { AmiMessage } from '../../src/ami/types.js';
import { silentLogger } from '../support/logger.js';

/** Shared set-up for the click-to-call tests: a real AMI simulator over TCP, a real AMI connection, the service. */

export const TOKEN = 'app-token-5f2b8e1c9d4a7b3e';
export const EXTENSIONS: Record<number, string> = { 11: '101', 12: '102' };
export const silent: HttpLogger = silentLogger;

export interface Harness {
  pbx: AmiSimulator;
  ami: AmiConnection;
  service: ClickToCall;
  route: Route;
  inputs: CoreInput[];
  /** How many Originates the simulator had received when each input was submitted. */
  originatesAtSubmit: number[];
  close(): Promise<void>;
}

export async function startHarness(
  opts: { config?: unknown; allow?: string[]; onAction?: OnAction; reconnectDelayMs?: number; actionTimeoutMs?: number; deps?: Partial<ClickToCallDeps>; logger?: HttpLogger } = {},
): Promise<Harness> {
  const pbx = await startAmiSimulator({ username: 'bridge', secret: 'ami-secret', ...(opts.onAction ? { onAction: opts.onAction } : {}) });
  const delay = opts.reconnectDelayMs ?? 50;
  const ami = new AmiConnection({
    host: pbx.host,
    port: pbx.port,
    username: 'bridge',
    secret: 'ami-secret',
    pingIntervalMs: 0,
    reconnect: { initialDelayMs: delay, maxDelayMs: delay, factor: 1, jitter: 0 },
  });
  await ami.connect();
  const inputs: CoreInput[] = [];
  const originatesAtSubmit: number[] = [];
  const service = new ClickToCall({
    originator: amiOriginator(ami, opts.actionTimeoutMs !== undefined ? { actionTimeoutMs: opts.actionTimeoutMs } : {}),
    hangup: amiHangup(ami),
    userExtension: (id) => EXTENSIONS[id],
    submit: (input) => {
      inputs.push(input);
      originatesAtSubmit.push(originates(pbx).length);
    },
    pbxAvailable: () => ami.isConnected,
    clock: Date.now,
    config: clickToCallSchema.parse(opts.config ?? {}),
    defaultUserId: 1,
    logger: opts.logger ?? silent,
    ...opts.deps,
  });
  ami.on('event', (msg) => service.onAmiEvent(msg));
  const route = createEventsRoute({ applicationToken: () => TOKEN, allow: createAddressMatcher(opts.allow ?? []), service, logger: opts.logger ?? silent });
  return {
    pbx,
    ami,
    service,
    route,
    inputs,
    originatesAtSubmit,
    async close() {
      await ami.close();
      await pbx.close();
    },
  };
}

export function originates(pbx: AmiSimulator): AmiMessage[] {
  return pbx.received.filter((a) => a['Action'] === 'Originate');
}

/** An event request exactly as Bitrix24 encodes it (the emulator's http_build_query). */
export function eventRequest(
  data: Record<string, unknown>,
  o: { event?: string; token?: string | null; contentType?: string | null; remoteAddress?: string; body?: string } = {},
): HttpRequest {
  const auth = o.token === null ? { domain: 'portal.example' } : { domain: 'portal.example', application_token: o.token ?? TOKEN };
  const body = o.body ?? buildQuery({ event: o.event ?? 'ONEXTERNALCALLSTART', event_handler_id: 3, data, ts: 1795263576, auth });
  const headers: Record<string, string> = o.contentType === null ? {} : { 'content-type': o.contentType ?? 'application/x-www-form-urlencoded' };
  return { method: 'POST', path: '/bitrix/events', query: new URLSearchParams(), headers, remoteAddress: o.remoteAddress ?? '127.0.0.1', body: Buffer.from(body) };
}

export const goodCall = { PHONE_NUMBER: '+7 (999) 000-11-22', USER_ID: '11', CALL_ID: 'externalCall.716f1cb73def9700a23842adf9c4c568.1773130779', LINE_NUMBER: '', IS_MOBILE: '0' };

export function bodyOf(res: HttpResponse): Record<string, unknown> {
  return JSON.parse(res.body.toString()) as Record<string, unknown>;
}

/** Round trip through the simulator: every action sent before it has been received once it resolves. */
export async function barrier(h: Harness): Promise<void> {
  await h.ami.action('Ping');
}
