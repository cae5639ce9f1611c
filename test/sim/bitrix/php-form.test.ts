import { describe, expect, it } from 'vitest';
import { boundaryOf, parseMultipart } from '../../../src/sim/bitrix/multipart.js';
import { parsePhpDate } from '../../../src/sim/bitrix/php-date.js';
import { buildQuery, parseStr } from '../../../src/sim/bitrix/php-form.js';
import { phpBool, phpInt, phpLooseEqualsInt } from '../../../src/sim/bitrix/php.js';

describe('parse_str', () => {
  it('builds nested arrays from bracket keys and lists from []', () => {
    expect(parseStr('FILTER[UF_PHONE_INNER]=101&USER_ID[]=1&USER_ID[]=2&a[b][c]=d')).toEqual({
      FILTER: { UF_PHONE_INNER: '101' },
      USER_ID: ['1', '2'],
      a: { b: { c: 'd' } },
    });
  });

  it('decodes + and %XX and keeps malformed escapes literally', () => {
    expect(parseStr('PHONE_NUMBER=%2B7+495&x=100%&y=%zz')).toEqual({ PHONE_NUMBER: '+7 495', x: '100%', y: '%zz' });
  });

  it('renames dots and spaces in the base name and an unclosed bracket, like PHP', () => {
    expect(parseStr('a.b=1&c d=2&e[f=3&g[h]i=4')).toEqual({ a_b: '1', c_d: '2', e_f: '3', g: { h: '4' } });
  });

  it('continues numbering after explicit integer keys and lets later keys win', () => {
    expect(parseStr('l[5]=a&l[]=b&k=1&k=2')).toEqual({ l: { 5: 'a', 6: 'b' }, k: '2' });
  });

  it('keeps keys in insertion order and renders 0..n-1 as a list', () => {
    expect(parseStr('cmd[0]=x&cmd[1]=y').cmd).toEqual(['x', 'y']);
    expect(parseStr('cmd[1]=x&cmd[0]=y').cmd).toEqual({ 1: 'x', 0: 'y' });
  });

  it('ignores empty names and pairs', () => {
    expect(parseStr('&=x&[a]=1&b')).toEqual({ b: '' });
  });
});

describe('http_build_query', () => {
  it('encodes nested keys, drops nulls and empty arrays, and writes booleans as 1/0', () => {
    expect(buildQuery({ data: { A: 'x y', B: null, C: [], D: false, E: [{ T: 'LEAD' }] }, auth: { t: 'a~b' } })).toBe(
      'data%5BA%5D=x+y&data%5BD%5D=0&data%5BE%5D%5B0%5D%5BT%5D=LEAD&auth%5Bt%5D=a%7Eb',
    );
  });

  it('round-trips through parse_str', () => {
    const data = { event: 'ONEXTERNALCALLSTART', data: { PHONE_NUMBER: '+7 (495) 1&2=3', LIST: ['a', 'b'] } };
    expect(parseStr(buildQuery(data))).toEqual(data);
  });
});

describe('PHP casts', () => {
  it('follows PHP truthiness where "N" is true and "0" is false', () => {
    expect([phpBool('N'), phpBool('false'), phpBool('0'), phpBool(''), phpBool(0), phpBool([]), phpBool(null)]).toEqual([
      true, true, false, false, false, false, false,
    ]);
  });

  it('casts to int with the leading-number rule', () => {
    expect([phpInt('12abc'), phpInt(' 7'), phpInt('abc'), phpInt(3.9), phpInt(true), phpInt('1e2')]).toEqual([12, 7, 0, 3, 1, 100]);
  });

  it('compares loosely like in_array without strict', () => {
    expect([phpLooseEqualsInt('2', 2), phpLooseEqualsInt(' 2 ', 2), phpLooseEqualsInt('2abc', 2), phpLooseEqualsInt(true, 1)]).toEqual([
      true, true, false, true,
    ]);
  });
});

describe('strtotime subset', () => {
  const now = Date.UTC(2026, 2, 10, 8, 0, 0);
  it('reads offsets, Z, and treats a missing offset as portal time', () => {
    expect(parsePhpDate('2026-03-07T10:20:30+03:00', now, 180)).toBe(Date.UTC(2026, 2, 7, 7, 20, 30));
    expect(parsePhpDate('2026-03-07 10:20:30.123456', now, 180)).toBe(Date.UTC(2026, 2, 7, 7, 20, 30, 123.456));
    expect(parsePhpDate('2026-03-07T10:20:30Z', now, 180)).toBe(Date.UTC(2026, 2, 7, 10, 20, 30));
    expect(parsePhpDate('@1773130779', now, 180)).toBe(1773130779000);
  });

  it('rejects what strtotime rejects', () => {
    expect(parsePhpDate('yesterday-ish', now, 0)).toBeNull();
    expect(parsePhpDate('2026-13-01', now, 0)).toBeNull();
  });
});

describe('multipart parser', () => {
  it('separates fields from files and keeps binary content intact', () => {
    const boundary = '----x';
    const bytes = Buffer.from([0, 255, 13, 10, 45, 45]);
    const body = Buffer.concat([
      Buffer.from(`------x\r\nContent-Disposition: form-data; name="a[b]"\r\n\r\nv\r\n`),
      Buffer.from(`------x\r\nContent-Disposition: form-data; name="file"; filename="r.wav"\r\nContent-Type: audio/wav\r\n\r\n`),
      bytes,
      Buffer.from('\r\n------x--\r\n'),
    ]);
    expect(boundaryOf(`multipart/form-data; boundary=${boundary}`)).toBe(boundary);
    const parsed = parseMultipart(body, boundary);
    expect(parsed?.fields).toEqual([['a[b]', 'v']]);
    expect(parsed?.files[0]).toMatchObject({ field: 'file', fileName: 'r.wav', contentType: 'audio/wav' });
    expect(parsed?.files[0]?.data.equals(bytes)).toBe(true);
  });

  it('returns null for a body that is not multipart', () => {
    expect(parseMultipart(Buffer.from('hello'), 'x')).toBeNull();
  });
});
