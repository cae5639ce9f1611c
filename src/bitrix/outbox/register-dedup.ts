import type { OutboxEntry } from '../outbox-entry.js';

/**
 * When a register whose answer was lost may be sent again.
 *
 * Bitrix24 answers a register that repeats a call still unfinished (same USER_ID, PHONE_NUMBER, TYPE, LINE_NUMBER
 * and EXTERNAL_CALL_ID) with that call's CALL_ID instead of making a second call, but only while the call's
 * CALL_START_DATE is less than 30 minutes old (Bitrix24 REST docs, telephony.externalcall.register,
 * dev.1c-bitrix.ru/rest_help/scope_telephony/telephony/telephony_externalcall_register.php: "a repeated call with the
 * same parameters, without finishing the previous call by telephony.externalcall.finish, gives the same CALL_ID
 * within 30 minutes"; the voximplant module's Rest\Helper::registerExternalCall). So a register whose
 * earlier attempt may have executed (`uncertain`: the connection reset or timed out after it left) is re-sent, with
 * exactly the same parameters, only while that holds, minus a safety margin for clock skew and time on the wire.
 * Past it, it is parked for an admin: sent blindly it could make a second call. Nothing else can make one: a finish
 * never travels with a register whose answer is unknown (batch-plan.ts), so the first call is still unfinished when
 * its register is repeated.
 */

export const DEDUP_WINDOW_MS = 30 * 60_000;
/** Host and portal clocks, the request's timeout and the limiter's wait all fit in it with room to spare. */
export const DEFAULT_DEDUP_MARGIN_MS = 5 * 60_000;

/** Every park reason this rule writes starts so: a retry by the admin is their word that no call was made. */
const LOST_REGISTER = 'register answer lost';

/** CALL_START_DATE as sent; without one (Bitrix24 then uses the moment it ran it) the command's creation, earlier. */
export function callStartOf(entry: OutboxEntry): number {
  const raw = entry.params['CALL_START_DATE'];
  const at = typeof raw === 'string' ? Date.parse(raw) : NaN;
  return Number.isFinite(at) ? at : entry.createdAt;
}

/** False for a register that may have made its call already and that Bitrix24 would no longer recognise. */
export function mayResend(entry: OutboxEntry, now: number, marginMs: number): boolean {
  if (entry.kind !== 'register' || !entry.uncertain) return true;
  return now < callStartOf(entry) + DEDUP_WINDOW_MS - marginMs;
}

/** The park reason: what happened, and what the admin checks and does. */
export function lostRegisterReason(entry: OutboxEntry): string {
  const start = new Date(callStartOf(entry)).toISOString();
  const p = entry.params;
  return (
    `${LOST_REGISTER} (${entry.lastError ?? 'the daemon stopped while it was on the wire'}) and Bitrix24 only recognises a repeat ` +
    `within 30 minutes of CALL_START_DATE ${start}: sending it again could make a second call. ` +
    `Check Bitrix24 for a call from ${String(p['PHONE_NUMBER'])} to user ${String(p['USER_ID'])} started then ` +
    `(EXTERNAL_CALL_ID ${String(p['EXTERNAL_CALL_ID'] ?? entry.key)}; before it is finished only a lead it created shows it); ` +
    `if there is none, run: parked --retry ${entry.seq}`
  );
}

export function isLostRegisterReason(error: string): boolean {
  return error.startsWith(LOST_REGISTER);
}
