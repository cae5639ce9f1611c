/**
 * PHP `parse_str` / `http_build_query` (docs/reference/bitrix24-rest.md#php-form-encoding). Bitrix reads query
 * strings, form bodies, multipart field names and batch sub-queries with PHP's
 * bracket syntax, so the emulator must build exactly the same nested arrays.
 */
import { phpAssoc, phpEntries, isPhpArray, type Params } from './php.js';

/** PHP's max_input_nesting_level: deeper variables are dropped. */
const MAX_NESTING = 64;

/** Ordered PHP array while parsing; converted to JS arrays/objects at the end. */
class PhpArray {
  readonly map = new Map<string, PhpArray | string>();
  private nextIndex = 0;

  set(key: string, value: PhpArray | string): void {
    // PHP turns canonical integer strings into int keys, which drive `[]` appends.
    if (/^(0|-?[1-9]\d{0,15})$/.test(key)) this.nextIndex = Math.max(this.nextIndex, Number(key) + 1);
    this.map.set(key, value);
  }

  append(value: PhpArray | string): void {
    this.set(String(this.nextIndex), value);
  }

  toJs(): unknown[] | Record<string, unknown> {
    return phpAssoc([...this.map].map(([k, v]) => [k, typeof v === 'string' ? v : v.toJs()]));
  }
}

/** `urldecode`: `+` is a space, bad `%` escapes stay literal, bytes decode as UTF-8. */
export function urldecode(s: string): string {
  if (!/[%+]/.test(s)) return s;
  const bytes: number[] = [];
  const src = Buffer.from(s, 'utf8');
  for (let i = 0; i < src.length; i++) {
    const c = src[i] as number;
    if (c === 0x2b) bytes.push(0x20);
    else if (c === 0x25 && i + 2 < src.length && isHex(src[i + 1]) && isHex(src[i + 2])) {
      bytes.push(parseInt(String.fromCharCode(src[i + 1] as number, src[i + 2] as number), 16));
      i += 2;
    } else bytes.push(c);
  }
  return Buffer.from(bytes).toString('utf8');
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && /[0-9a-fA-F]/.test(String.fromCharCode(c));
}

/** Collects `name=value` pairs with PHP's variable-registration rules. */
export class PhpFormBuilder {
  private readonly root = new PhpArray();

  add(rawName: string, value: string): void {
    let name = rawName.replace(/^ +/, '');
    const open = name.indexOf('[');
    let base = open === -1 ? name : name.slice(0, open);
    let rest = open === -1 ? '' : name.slice(open);
    // Spaces and dots in the base name become underscores; an unclosed `[` too.
    base = base.replace(/[ .]/g, '_');
    if (rest !== '' && rest.indexOf(']') === -1) {
      base = `${base}_${rest.slice(1)}`;
      rest = '';
    }
    if (base === '') return;

    const indices: Array<string | null> = [];
    while (rest.startsWith('[')) {
      const close = rest.indexOf(']');
      if (close === -1) break;
      const idx = rest.slice(1, close);
      indices.push(idx === '' ? null : idx);
      rest = rest.slice(close + 1);
    }
    if (indices.length >= MAX_NESTING) return;

    let node = this.root;
    let key: string | null = base;
    for (const idx of indices) {
      const existing: PhpArray | string | undefined = key === null ? undefined : node.map.get(key);
      let child: PhpArray;
      if (existing instanceof PhpArray) child = existing;
      else {
        child = new PhpArray();
        if (key === null) node.append(child);
        else node.set(key, child);
      }
      node = child;
      key = idx;
    }
    if (key === null) node.append(value);
    else node.set(key, value);
  }

  toParams(): Params {
    const js = this.root.toJs();
    return Array.isArray(js) ? Object.fromEntries(js.map((v, i) => [String(i), v])) : js;
  }
}

/** `parse_str($query, $out)`. */
export function parseStr(query: string): Params {
  const builder = new PhpFormBuilder();
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = urldecode(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? '' : urldecode(pair.slice(eq + 1));
    builder.add(name, value);
  }
  return builder.toParams();
}

/** PHP `urlencode` (RFC 1738): only alphanumerics and `-_.` stay, space is `+`. */
export function phpUrlencode(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/**
 * `http_build_query`: nested keys as `a[b][0]`, null values and empty arrays
 * vanish, booleans become 1/0 — so optional event fields may be absent
 * (docs/reference/bitrix24-apps.md#event-delivery).
 */
export function buildQuery(data: unknown, prefix = ''): string {
  const parts: string[] = [];
  for (const [k, v] of phpEntries(data)) {
    const key = prefix === '' ? k : `${prefix}[${k}]`;
    if (v === null || v === undefined) continue;
    if (isPhpArray(v)) {
      const nested = buildQuery(v, key);
      if (nested !== '') parts.push(nested);
      continue;
    }
    const str = typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
    parts.push(`${phpUrlencode(key)}=${phpUrlencode(str)}`);
  }
  return parts.join('&');
}
