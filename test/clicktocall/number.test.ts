import { describe, expect, it } from 'vitest';
import { normalizeNumber } from '../../src/clicktocall/number.js';
import { numberRulesSchema } from '../../src/config/http.js';

const defaults = numberRulesSchema.parse({});
const russia = numberRulesSchema.parse({ countryCode: '7', trunkPrefix: '8', plusAs: '', outboundPrefix: '9' });

describe('customer number normalization', () => {
  it('strips spaces and punctuation people type around numbers', () => {
    expect(normalizeNumber('+7 (999) 000-11.22', defaults)).toEqual({ ok: true, number: '+79990001122', dial: '79990001122' });
    expect(normalizeNumber('555\u00a098\u00a076', defaults)).toEqual({ ok: true, number: '5559876', dial: '5559876' });
  });

  it('rewrites the national trunk prefix to +country code and adds the outbound prefix', () => {
    expect(normalizeNumber('8 (999) 000-11-22', russia)).toEqual({ ok: true, number: '+79990001122', dial: '979990001122' });
    expect(normalizeNumber('+7 999 000 11 22', russia)).toEqual({ ok: true, number: '+79990001122', dial: '979990001122' });
  });

  it('turns + into the configured international prefix or keeps it', () => {
    expect(normalizeNumber('+4930123456', numberRulesSchema.parse({ plusAs: '00' }))).toMatchObject({ dial: '004930123456' });
    expect(normalizeNumber('+4930123456', numberRulesSchema.parse({ plusAs: '+' }))).toMatchObject({ dial: '+4930123456' });
  });

  it.each([
    ['CR/LF', '5551\r\nAction: Originate'],
    ['LF alone', '5551\n2'],
    ['&', '5551&PJSIP/666'],
    ['@', '5551@evil'],
    ['/', 'PJSIP/5551'],
    [',', '5551,tT'],
    ['letters', '555ABC1'],
    ['a + in the middle', '555+1234'],
    ['a NUL byte', '5551\u00002'],
    ['nothing', ''],
    ['only punctuation', ' ( ) - '],
    ['too few digits', '12'],
    ['more than 15 digits', '+1234567890123456'],
    ['an absurdly long input', '1'.repeat(65)],
  ])('refuses %s', (_name, input) => {
    const r = normalizeNumber(input, defaults);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe('INVALID_NUMBER');
      // The reason never echoes the input (it may carry CR/LF for a log line).
      expect(r.reason).not.toContain('\n');
      expect(r.reason).not.toContain('Originate');
    }
  });

  it('never produces anything but digits with an optional leading +', () => {
    const rules = numberRulesSchema.parse({ countryCode: '44', trunkPrefix: '0', outboundPrefix: '9', plusAs: '00' });
    for (const input of ['020 7946 0018', '+44 20 7946 0018', '(0)20-7946-0018', '07700.900123']) {
      const r = normalizeNumber(input, rules);
      expect(r.ok).toBe(true);
      if (r.ok) expect(r.dial).toMatch(/^\d+$/);
    }
  });
});
