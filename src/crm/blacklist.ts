import type { BlacklistConfig } from '../config/crm.js';
import type { NumberRules } from '../config/http.js';
import { checkNumber, type CrmNumber } from './number.js';

/**
 * Numbers the call center does not take: exact numbers and prefixes from the config, compared as digit keys after
 * the same normalization the callers' numbers get (so `+7 800…` in the config matches `8800…` on the trunk once
 * trunkPrefix/countryCode are set). The CRM field variant lives in the lookup (it needs the portal); this one is
 * synchronous and never asks anybody, so the dialplan can hang up a blocked caller even with the portal down.
 */
export class Blacklist {
  private readonly exact: ReadonlySet<string>;
  private readonly prefixes: readonly string[];

  constructor(config: Pick<BlacklistConfig, 'numbers' | 'prefixes'>, rules: NumberRules) {
    this.exact = new Set(config.numbers.map((n) => keyOf(n, rules, 'blacklist.numbers')));
    // A prefix is shorter than a number, so the number rules' minDigits do not apply: only + and trunk prefix.
    this.prefixes = config.prefixes.map((p) => prefixKey(p, rules));
  }

  get size(): number {
    return this.exact.size + this.prefixes.length;
  }

  isBlocked(n: CrmNumber): boolean {
    return this.exact.has(n.key) || this.prefixes.some((p) => n.key.startsWith(p));
  }
}

function keyOf(raw: string, rules: NumberRules, where: string): string {
  const r = checkNumber(raw, rules);
  // The schema already refused non-digits; this is the number rules (length) disagreeing: a config bug.
  if (!r.ok) throw new Error(`crm.${where}: "${raw}" is not a valid number (${r.reason})`);
  return r.value.key;
}

function prefixKey(raw: string, rules: NumberRules): string {
  let p = raw;
  if (rules.trunkPrefix !== undefined && rules.countryCode !== undefined && !p.startsWith('+') && p.startsWith(rules.trunkPrefix)) {
    p = `+${rules.countryCode}${p.slice(rules.trunkPrefix.length)}`;
  }
  const key = p.replace(/^\+/, '');
  if (!/^\d+$/.test(key)) throw new Error(`crm.blacklist.prefixes: "${raw}" is not a number prefix`);
  return key;
}
