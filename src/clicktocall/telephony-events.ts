import type { HttpErrorCode } from '../http/types.js';
import type { ClickToCall, StartResult } from './service.js';

/**
 * ONEXTERNALCALLSTART / ONEXTERNALCALLBACKSTART, however they arrived (an outbound webhook's POST, an
 * application's online POST, or an offline event fetched with event.offline.get): the event's `data` fields are
 * checked and the click-to-call service started. The caller has already authenticated the event.
 * Fields (Bitrix24 REST docs, api-reference/telephony/events): ONEXTERNALCALLSTART carries CALL_ID, USER_ID,
 * PHONE_NUMBER (Bitrix24 registered the call itself); ONEXTERNALCALLBACKSTART carries PHONE_NUMBER, CRM_ENTITY_TYPE,
 * CRM_ENTITY_ID, LINE_NUMBER and no CALL_ID.
 */

/** `callId`: a click's (Bitrix24 registered it); a callback has none yet (the outbox registers it). */
export type EventOutcome = { ok: true; event: string; callId?: string; linkedid: string } | { ok: false; code: HttpErrorCode; message: string };

/** Reads one `data[...]` field as a string (form values are strings; offline EVENT_DATA may hold numbers). */
type EventField = (name: string) => string | undefined;

export async function startFromEvent(event: string | undefined, field: EventField, service: Pick<ClickToCall, 'startCall' | 'startCallback'>): Promise<EventOutcome> {
  const name = event?.toUpperCase();
  if (name === 'ONEXTERNALCALLSTART') return callStart(field, service);
  if (name === 'ONEXTERNALCALLBACKSTART') return callbackStart(field, service);
  return { ok: false, code: 'BAD_REQUEST', message: 'event must be ONEXTERNALCALLSTART or ONEXTERNALCALLBACKSTART' };
}

async function callStart(field: EventField, service: Pick<ClickToCall, 'startCall'>): Promise<EventOutcome> {
  const callId = field('CALL_ID');
  const userId = positiveInt(field('USER_ID'));
  const phone = field('PHONE_NUMBER');
  if (callId === undefined || callId === '' || userId === undefined || phone === undefined) {
    const missing = [callId === undefined || callId === '' ? 'data[CALL_ID]' : '', userId === undefined ? 'data[USER_ID]' : '', phone === undefined ? 'data[PHONE_NUMBER]' : ''];
    return { ok: false, code: 'BAD_REQUEST', message: `missing or malformed: ${missing.filter(Boolean).join(', ')}` };
  }
  return outcome('ONEXTERNALCALLSTART', await service.startCall({ callId, userId, phoneNumber: phone }));
}

async function callbackStart(field: EventField, service: Pick<ClickToCall, 'startCallback'>): Promise<EventOutcome> {
  const phone = field('PHONE_NUMBER');
  if (phone === undefined) return { ok: false, code: 'BAD_REQUEST', message: 'missing or malformed: data[PHONE_NUMBER]' };
  const entityType = field('CRM_ENTITY_TYPE')?.toUpperCase();
  const entityId = positiveInt(field('CRM_ENTITY_ID'));
  const line = field('LINE_NUMBER');
  const result = await service.startCallback({
    phoneNumber: phone,
    ...(entityType !== undefined && /^(CONTACT|COMPANY|LEAD)$/.test(entityType) && entityId !== undefined ? { crmEntityType: entityType, crmEntityId: entityId } : {}),
    // LINE_NUMBER goes to register as is (Bitrix24 truncates it to 50); control characters are dropped with it.
    ...(line !== undefined && /^[^\0-\x1f\x7f]{1,50}$/.test(line) ? { lineNumber: line } : {}),
  });
  return outcome('ONEXTERNALCALLBACKSTART', result);
}

function outcome(event: string, r: StartResult): EventOutcome {
  if (!r.ok) return { ok: false, code: r.code, message: r.message };
  return { ok: true, event, linkedid: r.linkedid, ...(r.callId !== undefined ? { callId: r.callId } : {}) };
}

function positiveInt(s: string | undefined): number | undefined {
  if (s === undefined || !/^[1-9]\d{0,9}$/.test(s)) return undefined;
  const n = Number(s);
  return n <= 2_147_483_647 ? n : undefined;
}
