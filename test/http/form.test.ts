import { describe, expect, it } from 'vitest';
import { FormError, formString, parseForm, urldecode } from '../../src/http/form.js';
import { buildQuery, parseStr } from '../../src/sim/bitrix/php-form.js';

describe('PHP-bracket form decoding', () => {
  it('reads a Bitrix24 event body as the portal encodes it', () => {
    const body = buildQuery({
      event: 'ONEXTERNALCALLSTART',
      data: { PHONE_NUMBER: '+7 (999) 000-11-22', USER_ID: 11, CALL_ID: 'externalCall.abc.1', CRM_CREATED_ENTITIES: [{ ENTITY_TYPE: 'LEAD', ENTITY_ID: 5 }] },
      auth: { application_token: 'tok&=en', domain: 'example.bitrix24.ru' },
    });
    const form = parseForm(body);
    expect(formString(form, 'event')).toBe('ONEXTERNALCALLSTART');
    expect(formString(form, 'data', 'PHONE_NUMBER')).toBe('+7 (999) 000-11-22');
    expect(formString(form, 'data', 'USER_ID')).toBe('11');
    expect(formString(form, 'data', 'CRM_CREATED_ENTITIES', '0', 'ENTITY_TYPE')).toBe('LEAD');
    expect(formString(form, 'auth', 'application_token')).toBe('tok&=en');
  });

  it('builds the same nesting as PHP parse_str for appends, repeats and odd names', () => {
    const body = 'a[]=1&a[]=2&a[5]=x&a[]=y&b=1&b=2&c[d]=1&c=flat&e.f=1&g[h=1&&=empty&k';
    const ours = JSON.parse(JSON.stringify(parseForm(body))) as unknown;
    const php = parseStr(body);
    expect(ours).toEqual({ a: { '0': '1', '1': '2', '5': 'x', '6': 'y' }, b: '2', c: 'flat', e_f: '1', 'g_h': '1', k: '' });
    expect(Object.keys(php).sort()).toEqual(Object.keys(ours as object).sort());
  });

  it('keeps __proto__ and constructor as plain data instead of polluting prototypes', () => {
    const form = parseForm('__proto__[polluted]=yes&constructor[prototype][x]=1&data[__proto__]=2');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(formString(form, '__proto__', 'polluted')).toBe('yes');
    expect(formString(form, 'data', '__proto__')).toBe('2');
  });

  it('decodes + as a space, UTF-8 escapes, and leaves a broken escape literal', () => {
    expect(urldecode('a+b%20c%D0%96%zz%4')).toBe('a b cЖ%zz%4');
    expect(formString(parseForm('data[PHONE_NUMBER]=%2B7%0D%0A1'), 'data', 'PHONE_NUMBER')).toBe('+7\r\n1');
  });

  it('refuses more fields than the limit and drops keys nested too deep', () => {
    expect(() => parseForm('a=1&b=2&c=3', { maxFields: 2 })).toThrow(FormError);
    expect(formString(parseForm('a[b][c][d]=1', { maxDepth: 3 }), 'a', 'b', 'c', 'd')).toBeUndefined();
  });

  it('returns undefined for a path that holds an object or nothing', () => {
    const form = parseForm('data[PHONE_NUMBER][0]=1');
    expect(formString(form, 'data', 'PHONE_NUMBER')).toBeUndefined();
    expect(formString(form, 'data', 'MISSING')).toBeUndefined();
  });
});
