import type { FinishCall, HideCard, RegisterCall, ShowCard } from '../core/effects.js';

/** Bitrix24 command parameters for each effect (contract §5.1-5.3). Pure. */

/** `2026-11-21T12:17:50+03:00`: Bitrix24 reads a date without an offset in the portal's zone (§9.6). */
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

export function registerParams(e: RegisterCall, opts: CommandOptions): Record<string, unknown> {
  return {
    USER_ID: e.userId,
    PHONE_NUMBER: e.phoneNumber,
    TYPE: e.callType,
    CALL_START_DATE: isoWithOffset(e.startedAt, opts.utcOffsetMinutes),
    CRM_CREATE: e.crmCreate ? 1 : 0,
    // Cards are shown explicitly to the ringing members, never implicitly to the registering user.
    SHOW: 0,
    ...(e.lineNumber ? { LINE_NUMBER: e.lineNumber } : {}),
    // A unique id per physical call: Bitrix24 then never merges two calls (§9.1) and a retried register is idempotent.
    EXTERNAL_CALL_ID: e.linkedid,
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
    // The source defaults ADD_TO_CHAT to off when omitted, the docs to on: always send it (§5.3).
    ADD_TO_CHAT: opts.addToChat ? 1 : 0,
  };
}
