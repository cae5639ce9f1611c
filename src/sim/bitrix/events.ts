/**
 * Outbound events (docs/reference/bitrix24-apps.md#event-delivery) as Bitrix's queue sends them: a form-encoded
 * POST with PHP bracket keys and a webhook-style auth block, fired once, never retried.
 * ONEXTERNALCALLSTART registers the call internally first (docs/reference/bitrix24-telephony.md#click-to-call-event).
 */
import type { MethodContext } from './dispatch.js';
import { buildQuery } from './php-form.js';
import { isset, phpInt, phpString, type Params } from './php.js';
import type { EventRecord } from './types.js';
import { registerCall, stripLetters } from './methods/telephony-register.js';

export type EventName = 'ONEXTERNALCALLSTART' | 'ONEXTERNALCALLBACKSTART';

export interface SendEventOptions {
  /** auth[application_token]: the token of the outgoing webhook / app. */
  applicationToken: string;
  /** `event_handler_id`; null leaves it out like the 2018/2024 captures. Default 1. */
  eventHandlerId?: number | null;
  /** Overrides for the auth block (domain, member_id, …). */
  auth?: Record<string, string>;
  timeoutMs?: number;
}

export interface InternalRegisterInput {
  userId: number;
  phoneNumber: string;
  lineNumber?: string;
  /** The entity the user clicked, bound without search when both are given. */
  crmEntityType?: string;
  crmEntityId?: number | string;
  type?: number;
  show?: boolean;
  /** REST_APP_ID of the outgoing line: null for an outgoing webhook, the app's id for an app. */
  restAppId?: number | null;
}

export interface EventDeps {
  ctx: Pick<MethodContext, 'state' | 'clock' | 'fail'>;
  url: string;
  memberId: string;
  events: EventRecord[];
}

/** The registration Bitrix performs itself on click-to-call: TYPE 1, CRM_CREATE, no EXTERNAL_CALL_ID. */
export function registerInternal(deps: Pick<EventDeps, 'ctx'>, input: InternalRegisterInput): Record<string, unknown> {
  return registerCall(
    {
      userId: input.userId,
      phoneNumber: input.phoneNumber,
      type: input.type ?? 1,
      startMs: deps.ctx.clock(),
      lineNumber: input.lineNumber ?? '',
      crmCreate: true,
      crmEntityType: input.crmEntityType,
      crmEntityId: input.crmEntityId,
      // startCall passes no SHOW: the browser that clicked shows the card itself.
      show: input.show ?? false,
      via: 'internal',
      restAppId: input.restAppId ?? null,
    },
    deps.ctx,
  );
}

/** Sends the event and returns the CALL_ID it carried (ONEXTERNALCALLSTART only). */
export async function sendEvent(
  deps: EventDeps,
  targetUrl: string,
  event: EventName,
  data: Params,
  options: SendEventOptions,
): Promise<string | undefined> {
  let callId: string | undefined;
  let eventData: Params = data;
  if (event === 'ONEXTERNALCALLSTART') {
    const phone = phpString(data.PHONE_NUMBER);
    const registered = registerInternal(deps, {
      userId: phpInt(data.USER_ID),
      phoneNumber: phone,
      lineNumber: phpString(data.LINE_NUMBER),
      ...(isset(data.CRM_ENTITY_TYPE) && isset(data.CRM_ENTITY_ID)
        ? { crmEntityType: phpString(data.CRM_ENTITY_TYPE), crmEntityId: phpString(data.CRM_ENTITY_ID) }
        : {}),
    });
    callId = String(registered.CALL_ID);
    eventData = {
      PHONE_NUMBER: phone,
      PHONE_NUMBER_INTERNATIONAL: toE164(phone),
      EXTENSION: '',
      USER_ID: phpInt(data.USER_ID),
      CALL_LIST_ID: 0,
      // "" when the outgoing number is the webhook itself (docs/reference/bitrix24-telephony.md#click-to-call-event)
      LINE_NUMBER: '',
      IS_MOBILE: false,
      ...data,
      CALL_ID: callId,
      CRM_ENTITY_TYPE: registered.CRM_ENTITY_TYPE,
      CRM_ENTITY_ID: registered.CRM_ENTITY_ID,
      CRM_CREATED_LEAD: registered.CRM_CREATED_LEAD,
      CRM_CREATED_ENTITIES: registered.CRM_CREATED_ENTITIES,
    };
  }

  const now = deps.ctx.clock();
  const url = new URL(deps.url);
  const payload: Params = {
    event,
    ...(options.eventHandlerId === null ? {} : { event_handler_id: options.eventHandlerId ?? 1 }),
    data: eventData,
    ts: Math.floor(now / 1000),
    auth: {
      domain: url.host,
      client_endpoint: `${deps.url}/rest/`,
      server_endpoint: 'https://oauth.bitrix.info/rest/',
      member_id: deps.memberId,
      application_token: options.applicationToken,
      ...options.auth,
    },
  };
  const body = buildQuery(payload);
  const record: EventRecord = { at: now, event, targetUrl, body };
  deps.events.push(record);
  await postEvent(record, options.timeoutMs);
  return callId;
}

/**
 * One POST of a form-encoded event; the outcome goes on the record. No retries: the queue drops a failure
 * (docs/reference/bitrix24-apps.md#event-delivery).
 */
export async function postEvent(record: EventRecord, timeoutMs = 10_000): Promise<void> {
  try {
    const response = await fetch(record.targetUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: record.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    record.status = response.status;
    await response.arrayBuffer(); // the handler's answer is ignored
  } catch (err) {
    record.error = err instanceof Error ? err.message : String(err);
  }
}

/** Rough stand-in for Bitrix's phone parser: digits with a leading +. */
export function toE164(phone: string): string {
  const digits = stripLetters(phone).replace(/[^0-9]/g, '');
  return digits === '' ? '' : `+${digits}`;
}
