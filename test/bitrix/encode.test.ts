import { describe, expect, it } from 'vitest';
import { buildBatchCommand, encodeQuery, phpUrlencode, ref } from '../../src/bitrix/encode.js';

type PhpValue = string | { [key: string]: PhpValue };

/**
 * Minimal PHP parse_str: `+`/percent decoding, bracket nesting, `[]` appends.
 * (Real PHP also turns `.` and spaces in top-level names into `_`; our names never contain them.)
 */
function phpParseStr(query: string): Record<string, PhpValue> {
  const out: Record<string, PhpValue> = {};
  const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const rawName = decode(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? '' : decode(pair.slice(eq + 1));
    const open = rawName.indexOf('[');
    const base = open === -1 ? rawName : rawName.slice(0, open);
    const segments = open === -1 ? [] : [...rawName.slice(open).matchAll(/\[([^\]]*)\]/g)].map((m) => m[1] ?? '');
    let node: Record<string, PhpValue> = out;
    const path = [base, ...segments];
    path.forEach((segment, i) => {
      const key = segment === '' ? String(Object.keys(node).length) : segment;
      if (i === path.length - 1) {
        node[key] = value;
      } else {
        const next = node[key];
        const child: Record<string, PhpValue> = typeof next === 'object' ? next : {};
        node[key] = child;
        node = child;
      }
    });
  }
  return out;
}

describe('phpUrlencode', () => {
  it('encodes like PHP urlencode, with spaces as plus and reserved characters escaped', () => {
    expect(phpUrlencode("a b&c=d+e/f?g#h%i!'()*~é")).toBe(
      'a+b%26c%3Dd%2Be%2Ff%3Fg%23h%25i%21%27%28%29%2A%7E%C3%A9',
    );
    expect(phpUrlencode('Safe-_.09Az')).toBe('Safe-_.09Az');
  });
});

describe('encodeQuery', () => {
  it('encodes flat scalars, booleans as 1/0 and drops null and undefined', () => {
    expect(
      encodeQuery({ USER_PHONE_INNER: '101', TYPE: 2, SHOW: true, CRM_CREATE: false, A: null, B: undefined }),
    ).toBe('USER_PHONE_INNER=101&TYPE=2&SHOW=1&CRM_CREATE=0');
  });

  it('encodes nested objects with PHP bracket syntax', () => {
    expect(encodeQuery({ FILTER: { UF_PHONE_INNER: 101, ACTIVE: true } })).toBe(
      'FILTER[UF_PHONE_INNER]=101&FILTER[ACTIVE]=1',
    );
  });

  it('encodes arrays with explicit indices, including arrays of objects', () => {
    expect(encodeQuery({ USER_ID: [1, 2] })).toBe('USER_ID[0]=1&USER_ID[1]=2');
    expect(encodeQuery({ fields: { PHONE: [{ VALUE: '+4930 1', VALUE_TYPE: 'WORK' }] } })).toBe(
      'fields[PHONE][0][VALUE]=%2B4930+1&fields[PHONE][0][VALUE_TYPE]=WORK',
    );
  });

  it('emits nothing for empty arrays and objects, like http_build_query', () => {
    expect(encodeQuery({ A: [], B: {}, C: 'x' })).toBe('C=x');
  });

  it('encodes special characters in values and keys so they cannot split the query', () => {
    const query = encodeQuery({ 'we ird&key': 'a&b=c+d e', NAME: 'Ёж #1 50% ?' });
    expect(query).not.toContain(' ');
    expect(query.split('&')).toHaveLength(2);
    expect(query).toBe('we+ird%26key=a%26b%3Dc%2Bd+e&NAME=%D0%81%D0%B6+%231+50%25+%3F');
    const parsed = new URLSearchParams(query);
    expect(parsed.get('we ird&key')).toBe('a&b=c+d e');
    expect(parsed.get('NAME')).toBe('Ёж #1 50% ?');
  });

  it('round-trips through a PHP-compatible parse_str', () => {
    const params = {
      FIELDS: { TITLE: 'Call from +1 (555) 010-0000 & co', PHONE: [{ VALUE: '+15550100000', VALUE_TYPE: 'WORK' }] },
      USER_ID: [1, 2, 3],
      SHOW: false,
      CRM_CREATE: true,
      NOTE: 'a=b&c=d',
      SKIP: null,
    };
    expect(phpParseStr(encodeQuery(params))).toEqual({
      FIELDS: {
        TITLE: 'Call from +1 (555) 010-0000 & co',
        PHONE: { '0': { VALUE: '+15550100000', VALUE_TYPE: 'WORK' } },
      },
      USER_ID: { '0': '1', '1': '2', '2': '3' },
      SHOW: '0',
      CRM_CREATE: '1',
      NOTE: 'a=b&c=d',
    });
  });

  it('produces the same structure PHP builds from the [] append form', () => {
    expect(phpParseStr(encodeQuery({ USER_ID: [7, 8] }))).toEqual(phpParseStr('USER_ID[]=7&USER_ID[]=8'));
  });

  it('emits batch back-references unencoded so the portal can substitute them', () => {
    expect(encodeQuery({ CALL_ID: ref('reg', 'CALL_ID'), USER_ID: 1 })).toBe('CALL_ID=$result[reg][CALL_ID]&USER_ID=1');
    expect(encodeQuery({ fields: { IDS: [ref('lead')] } })).toBe('fields[IDS][0]=$result[lead]');
  });

  it('refuses back-reference segments that could break out of the value', () => {
    expect(() => ref('reg&x=1')).toThrow(TypeError);
    expect(() => ref('reg', 'CALL_ID]')).toThrow(TypeError);
  });

  it('refuses values it cannot encode faithfully instead of dropping them', () => {
    expect(() => encodeQuery({ CALL_START_DATE: new Date() })).toThrow(/plain object/);
    expect(() => encodeQuery({ DURATION: Number.NaN })).toThrow(/finite/);
    expect(() => encodeQuery({ f: () => 1 })).toThrow(/unsupported/);
  });
});

describe('buildBatchCommand', () => {
  it('joins the method and the encoded query with a question mark', () => {
    expect(buildBatchCommand('telephony.externalcall.finish', { CALL_ID: ref('reg', 'CALL_ID'), DURATION: 12 })).toBe(
      'telephony.externalcall.finish?CALL_ID=$result[reg][CALL_ID]&DURATION=12',
    );
  });

  it('omits the question mark when there are no parameters', () => {
    expect(buildBatchCommand('server.time', {})).toBe('server.time');
  });

  it('rejects method names that would alter the URL or the command string', () => {
    expect(() => buildBatchCommand('user.get?x=1', {})).toThrow(TypeError);
    expect(() => buildBatchCommand('../profile', {})).toThrow(TypeError);
  });
});
