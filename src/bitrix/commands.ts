import type { FinishCall, HideCard, RegisterCall, ShowCard } from '../core/effects.js';

/** Bitrix24 command parameters for each effect (Bitrix24 REST docs: telephony.externalcall.register, show, hide, finish). Pure. */

/**
 * `2026-11-21T12:17:50+03:00`: Bitrix24 reads a date without an offset in the portal's zone (the REST module's
 * date parsing, rest/classes/general/rest_util.php), so the offset is always sent.
 */
export function isoWithOffset(ms: number, offsetMinutes = -new Date(ms).getTimezoneOffset()): string {
  const local = new Date(ms + offsetMinutes * 60_000);
  const sign = offsetMinutes >= 0 ? '+' : '-';
  const abs = Math.abs(offsetMinutes);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${local.toISOString().slice(0, 19)}${sign}${hh}:${mm}`;
}

export interface CommandOptions {
  addToChat: boolean;
  /** Fixed UTC offset for CALL_START_DATE; default: the host's zone at that date. */
  utcOffsetMinutes?: number;
}

/**
 * The one place a register's params are composed, for every call (the core's register effect, callbacks
 * included): the call's own fields, then the CRM features' (`crm`: CRM_CREATE per line, CRM_SOURCE, the entity a
 * lookup found; src/crm/leads.ts), then the entity the call came with (a callback form's), which wins: Bitrix24
 * binds the call to it without searching by number (telephony.externalcall.register, CRM_ENTITY_TYPE/ID).
 * Built once when the register is queued: a repeat after a lost answer carries exactly these params.
 */
export function registerParams(e: RegisterCall, opts: CommandOptions, crm: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    USER_ID: e.userId,
    PHONE_NUMBER: e.phoneNumber,
    TYPE: e.callType,
    CALL_START_DATE: isoWithOffset(e.startedAt, opts.utcOffsetMinutes),
    CRM_CREATE: e.crmCreate ? 1 : 0,
    // Cards are shown explicitly to the ringing members, never implicitly to the registering user.
    SHOW: 0,
    ...(e.lineNumber ? { LINE_NUMBER: e.lineNumber } : {}),
    // A unique id per physical call: Bitrix24 then never merges two calls, and answers a repeated register of an
    // unfinished call with the same CALL_ID (the docs' "same CALL_ID within 30 minutes"; outbox/register-dedup.ts).
    EXTERNAL_CALL_ID: e.linkedid,
    ...crm,
    ...(e.crmEntity ? { CRM_ENTITY_TYPE: e.crmEntity.type, CRM_ENTITY_ID: e.crmEntity.id } : {}),
  };
}

export function cardParams(e: ShowCard | HideCard): Record<string, unknown> {
  return { USER_ID: e.userIds };
}

export function finishParams(e: FinishCall, opts: CommandOptions): Record<string, unknown> {
  return {
    USER_ID: e.userId,
    DURATION: e.durationSec,
    STATUS_CODE: e.status,
    // The voximplant module's REST wrapper defaults ADD_TO_CHAT to off when omitted, the docs to on: always send it.
    ADD_TO_CHAT: opts.addToChat ? 1 : 0,
  };
}
