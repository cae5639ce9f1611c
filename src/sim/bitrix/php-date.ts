/**
 * The subset of PHP `strtotime` that CALL_START_DATE needs (docs/reference/bitrix24-rest.md#dates):
 * ISO-8601-like dates with or without offset, `@unix`, `now`, RFC 2822.
 * A missing offset means the portal timezone. Returns ms or null.
 */

const ISO =
  /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?|UTC|GMT)?$/i;
const RFC2822 = /^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d{1,2}:\d{2}(?::\d{2})?\s*(?:[+-]\d{4}|GMT|UTC)$/;

export function parsePhpDate(input: string, nowMs: number, portalOffsetMinutes: number): number | null {
  const s = input.trim();
  if (/^now$/i.test(s)) return nowMs;
  const unix = /^@(-?\d+)$/.exec(s);
  if (unix) return Number(unix[1]) * 1000;
  if (RFC2822.test(s)) {
    const ms = Date.parse(s);
    return Number.isNaN(ms) ? null : ms;
  }

  const m = ISO.exec(s);
  if (!m) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  // PHP rejects out-of-range fields but lets day 29-31 overflow into the next month.
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 24 || minute > 59 || second > 60) return null;
  const fraction = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  const localMs = Date.UTC(year, month - 1, day, hour, minute, second) + fraction;
  return localMs - offsetMinutes(m[8], portalOffsetMinutes) * 60_000;
}

function offsetMinutes(zone: string | undefined, portalOffsetMinutes: number): number {
  if (zone === undefined) return portalOffsetMinutes;
  if (/^(Z|UTC|GMT)$/i.test(zone)) return 0;
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
  if (!m) return portalOffsetMinutes;
  const minutes = Number(m[2]) * 60 + Number(m[3] ?? 0);
  return m[1] === '-' ? -minutes : minutes;
}
