/**
 * What the portal does for the application's bindings when a user clicks a number or a callback is requested
 * (voximplant/lib/rest/helper.php startCall / startCallBack, rest/lib/event/sender.php, provideroffline.php),
 * and the ONAPPINSTALL POST of an install (docs api-reference/common/events/on-app-install.md).
 * - click-to-call registers the call first (REST_APP_ID = the app); without an ONEXTERNALCALLSTART binding the
 *   app is no outgoing line and nothing happens ("Outgoing line is not found");
 * - online bindings get a form POST: event, event_handler_id, data, ts, auth (a fresh access token for the user
 *   behind the event, no refresh token: sendRefreshToken is false); no user → no tokens in auth;
 * - offline bindings get a queue row with EVENT_ADDITIONAL {LOCAL_USER, application_token}.
 */
import type { MethodContext } from '../dispatch.js';
import { postEvent, registerInternal, toE164 } from '../events.js';
import { buildQuery } from '../php-form.js';
import type { Params } from '../php.js';
import type { EventRecord } from '../types.js';
import type { Binding } from './bindings.js';
import type { PortalApp } from './portal-app.js';
import type { IssuedPair } from './tokens.js';

export interface PortalEndpoints {
  /** `http://host:port` of the portal. */
  url: string;
  domain: string;
  memberId: string;
  /** `http://host:port` of the authorization server. */
  oauthUrl: string;
}

export interface DeliveryDeps {
  app: PortalApp;
  ctx: Pick<MethodContext, 'state' | 'clock' | 'fail'>;
  portal: PortalEndpoints;
  events: EventRecord[];
  timeoutMs?: number;
}

export type Delivery =
  | { kind: 'online'; bindingId: number; handler: string; status?: number; error?: string }
  | { kind: 'offline'; bindingId: number; rowId: number; messageId: string };

export interface ClickToCallInput {
  userId: number;
  phoneNumber: string;
  /** An external line picked as the outgoing number; '' / absent = the app itself (LINE_NUMBER ''). */
  lineNumber?: string;
  crmEntityType?: string;
  crmEntityId?: number | string;
  callListId?: number;
  isMobile?: boolean;
}

export interface ClickResult {
  /** Null when the app is no outgoing line (no ONEXTERNALCALLSTART binding). */
  callId: string | null;
  error?: string;
  data?: Params;
  deliveries: Delivery[];
}

export interface CallbackInput {
  phoneNumber: string;
  text?: string;
  voice?: string;
  crmEntityType?: string;
  crmEntityId?: number | string;
  lineNumber?: string;
  /** The user behind the request; absent (a site widget) → no tokens in auth. */
  userId?: number;
}

export async function clickToCall(deps: DeliveryDeps, input: ClickToCallInput): Promise<ClickResult> {
  const bindings = deps.app.bindings.forEvent('ONEXTERNALCALLSTART');
  if (bindings.length === 0) return { callId: null, error: 'Outgoing line is not found', deliveries: [] };
  const registered = registerInternal(deps, {
    userId: input.userId,
    phoneNumber: input.phoneNumber,
    lineNumber: input.lineNumber ?? '',
    restAppId: deps.app.id,
    ...(input.crmEntityType !== undefined && input.crmEntityId !== undefined
      ? { crmEntityType: input.crmEntityType, crmEntityId: input.crmEntityId }
      : {}),
  });
  const callId = String(registered.CALL_ID);
  const data: Params = {
    PHONE_NUMBER: input.phoneNumber,
    PHONE_NUMBER_INTERNATIONAL: toE164(input.phoneNumber),
    EXTENSION: '',
    USER_ID: input.userId,
    CALL_LIST_ID: input.callListId ?? 0,
    LINE_NUMBER: input.lineNumber ?? '',
    IS_MOBILE: input.isMobile ?? false,
    CALL_ID: callId,
    CRM_ENTITY_TYPE: registered.CRM_ENTITY_TYPE,
    CRM_ENTITY_ID: registered.CRM_ENTITY_ID,
    CRM_CREATED_LEAD: registered.CRM_CREATED_LEAD,
    CRM_CREATED_ENTITIES: registered.CRM_CREATED_ENTITIES,
  };
  return { callId, data, deliveries: await deliver(deps, bindings, 'ONEXTERNALCALLSTART', data, input.userId) };
}

export interface CallbackResult {
  data: Params;
  deliveries: Delivery[];
}

export async function callback(deps: DeliveryDeps, input: CallbackInput): Promise<CallbackResult> {
  const data: Params = {
    PHONE_NUMBER: input.phoneNumber,
    TEXT: input.text ?? '',
    VOICE: input.voice ?? '',
    CRM_ENTITY_TYPE: input.crmEntityType ?? '',
    CRM_ENTITY_ID: input.crmEntityId ?? 0,
    LINE_NUMBER: input.lineNumber ?? '',
  };
  const bindings = deps.app.bindings.forEvent('ONEXTERNALCALLBACKSTART');
  return { data, deliveries: await deliver(deps, bindings, 'ONEXTERNALCALLBACKSTART', data, input.userId ?? 0) };
}

async function deliver(deps: DeliveryDeps, bindings: Binding[], event: string, data: Params, eventUser: number): Promise<Delivery[]> {
  const out: Delivery[] = [];
  for (const binding of bindings) {
    // AUTH_TYPE > 0 makes the handler act as that user; 0 = whoever triggered the event.
    const userId = binding.userId > 0 ? binding.userId : eventUser;
    if (binding.handler === '') {
      const row = deps.app.offline.push(event, data, { LOCAL_USER: userId, application_token: deps.app.applicationToken });
      out.push({ kind: 'offline', bindingId: binding.id, rowId: row.id, messageId: row.messageId });
      continue;
    }
    const auth = userId > 0 ? eventAuth(deps, userId) : baseAuth(deps);
    const payload = { event, event_handler_id: binding.id, data, ts: Math.floor(deps.ctx.clock() / 1000), auth };
    const record: EventRecord = { at: deps.ctx.clock(), event, targetUrl: binding.handler, body: buildQuery(payload) };
    deps.events.push(record);
    await postEvent(record, deps.timeoutMs);
    out.push({ kind: 'online', bindingId: binding.id, handler: binding.handler, status: record.status, error: record.error });
  }
  return out;
}

/** The auth block when no user is behind the event: no tokens (docs _includes/auth-params-in-events.md). */
function baseAuth(deps: DeliveryDeps): Params {
  return {
    scope: deps.app.scopeList,
    domain: deps.portal.domain,
    server_endpoint: `${deps.portal.oauthUrl}/rest/`,
    status: 'L',
    client_endpoint: `${deps.portal.url}/rest/`,
    member_id: deps.portal.memberId,
    application_token: deps.app.applicationToken,
  };
}

/** With a user: a fresh access token for them, `expires` and `user_id` as seen in 2024 bodies (b24-rest-docs #55). */
function eventAuth(deps: DeliveryDeps, userId: number): Params {
  const row = deps.app.tokens.issueAccess(userId);
  return {
    access_token: row.token,
    expires: Math.floor(row.expiresAt / 1000),
    expires_in: Math.round(deps.app.config.accessTtlMs / 1000),
    ...baseAuth(deps),
    user_id: userId,
  };
}

export interface InstallResult {
  /** The install handler's HTTP status; undefined when it could not be reached. */
  status?: number;
  error?: string;
  /** What was sent, so a test can compare with what the daemon stored. */
  sent: IssuedPair & { applicationToken: string; memberId: string; domain: string };
  body: string;
}

/** ONAPPINSTALL to the app's "path for initial installation", with a fresh pair for the installing admin. */
export async function postInstall(deps: DeliveryDeps, installUrl: string, languageId = 'en'): Promise<InstallResult> {
  const pair = deps.app.tokens.issuePair(deps.app.config.userId);
  const payload = {
    event: 'ONAPPINSTALL',
    data: { VERSION: deps.app.config.version, ACTIVE: 'Y', INSTALLED: 'Y', LANGUAGE_ID: languageId },
    ts: Math.floor(deps.ctx.clock() / 1000),
    auth: {
      domain: deps.portal.domain,
      scope: deps.app.scopeList,
      access_token: pair.accessToken,
      refresh_token: pair.refreshToken,
      expires_in: pair.expiresIn,
      server_endpoint: `${deps.portal.oauthUrl}/rest/`,
      status: 'L',
      client_endpoint: `${deps.portal.url}/rest/`,
      member_id: deps.portal.memberId,
      application_token: deps.app.applicationToken,
    },
  };
  const record: EventRecord = { at: deps.ctx.clock(), event: 'ONAPPINSTALL', targetUrl: installUrl, body: buildQuery(payload) };
  deps.events.push(record);
  await postEvent(record, deps.timeoutMs);
  const sent = { ...pair, applicationToken: deps.app.applicationToken, memberId: deps.portal.memberId, domain: deps.portal.domain };
  return { ...(record.status !== undefined ? { status: record.status } : {}), ...(record.error ? { error: record.error } : {}), sent, body: record.body };
}
