import type { NumberRules } from '../config/http.js';

/**
 * A customer number from Bitrix24 (typed by people into CRM: spaces, brackets, dashes, 8 instead of +7) turned
 * into what the trunk dials. The result is digits with at most a leading + and nothing else, so it can never
 * break a dial string (`&` adds a second device, `,` starts Dial options) or an AMI header (CR/LF).
 */

export type NumberResult =
  /** number: canonical form for Bitrix24 and caller ID (+79991234567); dial: the Originate Exten. */
  | { ok: true; number: string; dial: string }
  | { ok: false; code: 'INVALID_NUMBER'; reason: string };

/** Longer raw input is refused before any work: no phone number is written with 64 characters. */
const MAX_RAW_LENGTH = 64;
const PLUS_DIGITS = /^\+?\d+$/;

export function normalizeNumber(raw: string, rules: NumberRules): NumberResult {
  if (raw.length > MAX_RAW_LENGTH) return invalid(`longer than ${MAX_RAW_LENGTH} characters`);
  let n = '';
  for (const ch of raw) if (!rules.stripChars.includes(ch)) n += ch;
  if (n === '') return invalid('empty');
  // Reasons describe the problem, never echo the input: it may hold CR/LF meant for a log or a header.
  if (!PLUS_DIGITS.test(n)) return invalid('only digits with an optional leading + are allowed');
  if (rules.trunkPrefix !== undefined && rules.countryCode !== undefined && !n.startsWith('+') && n.startsWith(rules.trunkPrefix)) {
    n = `+${rules.countryCode}${n.slice(rules.trunkPrefix.length)}`;
  }
  const digits = n.startsWith('+') ? n.length - 1 : n.length;
  if (digits < rules.minDigits) return invalid(`fewer than ${rules.minDigits} digits`);
  if (digits > rules.maxDigits) return invalid(`more than ${rules.maxDigits} digits`);
  const dial = rules.outboundPrefix + (n.startsWith('+') ? rules.plusAs + n.slice(1) : n);
  // Belt and braces: whatever the rules say, only + and digits ever reach the PBX.
  if (!PLUS_DIGITS.test(dial)) return invalid('rewrite rules produced an unsafe number');
  return { ok: true, number: n, dial };
}

function invalid(reason: string): NumberResult {
  return { ok: false, code: 'INVALID_NUMBER', reason };
}
