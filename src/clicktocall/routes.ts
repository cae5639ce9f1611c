import { tokenMatches, type AddressMatcher } from '../http/auth.js';
import { errorResponse, json } from '../http/errors.js';
import { FormError, formString, parseForm, type FormObject } from '../http/form.js';
import type { HttpLogger, HttpResponse, Route } from '../http/types.js';
import type { ClickToCall, StartResult } from './service.js';

/**
 * POST /bitrix/events: Bitrix24's outbound events (contract §6), form-encoded with PHP bracket keys.
 * Checks run cheapest and least revealing first: peer address (403), content type (415), form (400),
 * application token (401); only then is the event looked at. A refused request changes nothing.
 */

export interface EventsRouteOptions {
  /** bitrix.applicationToken; undefined refuses every event (fail closed). */
  applicationToken: string | undefined;
  allow: AddressMatcher;
  service: Pick<ClickToCall, 'startCall' | 'startCallback'>;
  logger: HttpLogger;
}

const FORM = 'application/x-www-form-urlencoded';

export function createEventsRoute(opts: EventsRouteOptions): Route {
  if (!opts.applicationToken) opts.logger.warn({}, 'bitrix.applicationToken is not set: every Bitrix24 event will be refused (401)');
  return async (req) => {
    if (!opts.allow.allows(req.remoteAddress)) return errorResponse('FORBIDDEN', 'address not allowed');
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== FORM) return errorResponse('UNSUPPORTED_MEDIA_TYPE', `content type must be ${FORM}`);
    let form: FormObject;
    try {
      form = parseForm(req.body.toString('utf8'));
    } catch (err) {
      return errorResponse('BAD_REQUEST', err instanceof FormError ? err.message : 'malformed form body');
    }
    if (!tokenMatches(opts.applicationToken, formString(form, 'auth', 'application_token'))) {
      opts.logger.warn({ remoteAddress: req.remoteAddress }, 'Bitrix24 event with a missing or wrong application token refused');
      return errorResponse('UNAUTHORIZED', 'missing or wrong auth[application_token]');
    }
    const event = formString(form, 'event')?.toUpperCase();
    if (event === 'ONEXTERNALCALLSTART') return callStart(form, opts);
    if (event === 'ONEXTERNALCALLBACKSTART') return callbackStart(form, opts);
    return errorResponse('BAD_REQUEST', 'event must be ONEXTERNALCALLSTART or ONEXTERNALCALLBACKSTART');
  };
}

async function callStart(form: FormObject, opts: EventsRouteOptions): Promise<HttpResponse> {
  const callId = formString(form, 'data', 'CALL_ID');
  const userId = positiveInt(formString(form, 'data', 'USER_ID'));
  const phone = formString(form, 'data', 'PHONE_NUMBER');
  const missing = [callId === undefined || callId === '' ? 'data[CALL_ID]' : '', userId === undefined ? 'data[USER_ID]' : '', phone === undefined ? 'data[PHONE_NUMBER]' : ''];
  if (callId === undefined || callId === '' || userId === undefined || phone === undefined) {
    return errorResponse('BAD_REQUEST', `missing or malformed: ${missing.filter(Boolean).join(', ')}`);
  }
  return answer('ONEXTERNALCALLSTART', await opts.service.startCall({ callId, userId, phoneNumber: phone }));
}

async function callbackStart(form: FormObject, opts: EventsRouteOptions): Promise<HttpResponse> {
  const phone = formString(form, 'data', 'PHONE_NUMBER');
  if (phone === undefined) return errorResponse('BAD_REQUEST', 'missing or malformed: data[PHONE_NUMBER]');
  const entityType = formString(form, 'data', 'CRM_ENTITY_TYPE')?.toUpperCase();
  const entityId = positiveInt(formString(form, 'data', 'CRM_ENTITY_ID'));
  const line = formString(form, 'data', 'LINE_NUMBER');
  const result = await opts.service.startCallback({
    phoneNumber: phone,
    ...(entityType !== undefined && /^(CONTACT|COMPANY|LEAD)$/.test(entityType) && entityId !== undefined ? { crmEntityType: entityType, crmEntityId: entityId } : {}),
    // LINE_NUMBER goes to register as is (Bitrix24 truncates it to 50); control characters are dropped with it.
    ...(line !== undefined && /^[^\0-\x1f\x7f]{1,50}$/.test(line) ? { lineNumber: line } : {}),
  });
  return answer('ONEXTERNALCALLBACKSTART', result);
}

function answer(event: string, r: StartResult): HttpResponse {
  if (!r.ok) return errorResponse(r.code, r.message);
  return json(200, { ok: true, event, callId: r.callId, linkedid: r.linkedid });
}

function positiveInt(s: string | undefined): number | undefined {
  if (s === undefined || !/^[1-9]\d{0,9}$/.test(s)) return undefined;
  const n = Number(s);
  return n <= 2_147_483_647 ? n : undefined;
}
