import { normalizeNumber } from '../clicktocall/number.js';
import type { NumberRules } from '../config/http.js';

/**
 * One spelling per customer number for the CRM features, built on click-to-call's strict normalization (so
 * `8 (999) 123-45-67`, `+79991234567` and `79991234567` are one number once trunkPrefix/countryCode are set).
 * `key` is the digits only: the cache, the blacklist and the dedup windows compare keys, because caller IDs
 * arrive with and without the `+` (and a `+` in a query string becomes a space unless the dialplan encodes it).
 */

export interface CrmNumber {
  /** Canonical form sent to Bitrix24 (`+79991234567` or `5551001`). */
  number: string;
  /** Digits only: what everything compares. */
  key: string;
}

export type NumberCheck = { ok: true; value: CrmNumber } | { ok: false; reason: string };

export function checkNumber(raw: string, rules: NumberRules): NumberCheck {
  const r = normalizeNumber(raw, rules);
  if (!r.ok) return { ok: false, reason: r.reason };
  return { ok: true, value: { number: r.number, key: r.number.replace(/^\+/, '') } };
}

/** For numbers that are not user input (the core's caller IDs): undefined when unusable (anonymous, '0'). */
export function crmNumber(raw: string, rules: NumberRules): CrmNumber | undefined {
  if (raw === '' || raw === '0') return undefined;
  const r = checkNumber(raw, rules);
  return r.ok ? r.value : undefined;
}
