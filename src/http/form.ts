/**
 * application/x-www-form-urlencoded with PHP's bracket keys, as Bitrix24 posts its events
 * (docs/reference/bitrix24-apps.md#event-delivery):
 * `data[PHONE_NUMBER]=...&auth[application_token]=...&data[CRM_CREATED_ENTITIES][0][ENTITY_TYPE]=LEAD`.
 * Objects are created without a prototype, so keys such as `__proto__` are plain data, never pollution.
 */

import { errorResponse } from './errors.js';
import type { HttpRequest, HttpResponse } from './types.js';

export type FormValue = string | FormObject;
export interface FormObject {
  [key: string]: FormValue | undefined;
}

export interface FormLimits {
  /** More pairs than this is a malformed request (PHP's max_input_vars is 1000). */
  maxFields?: number;
  /** Deeper keys are dropped, like PHP's max_input_nesting_level. */
  maxDepth?: number;
}

export class FormError extends Error {
  override readonly name = 'FormError';
}

export function parseForm(body: string, limits: FormLimits = {}): FormObject {
  const maxFields = limits.maxFields ?? 1000;
  const maxDepth = limits.maxDepth ?? 16;
  const root: FormObject = Object.create(null) as FormObject;
  const nextIndex = new WeakMap<FormObject, number>();
  let count = 0;
  for (const pair of body.split('&')) {
    if (pair === '') continue;
    if (++count > maxFields) throw new FormError(`more than ${maxFields} form fields`);
    const eq = pair.indexOf('=');
    const name = urldecode(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? '' : urldecode(pair.slice(eq + 1));
    const path = keyPath(name);
    if (!path || path.length > maxDepth) continue;
    let node = root;
    for (let i = 0; i < path.length; i++) {
      const last = i === path.length - 1;
      const part = path[i];
      // `[]` appends, after the highest integer key so far (PHP semantics).
      const key = typeof part === 'string' ? part : String(nextIndex.get(node) ?? 0);
      if (/^(0|[1-9]\d{0,8})$/.test(key)) nextIndex.set(node, Math.max(nextIndex.get(node) ?? 0, Number(key) + 1));
      if (last) {
        node[key] = value;
        break;
      }
      const child = node[key];
      if (typeof child === 'object') node = child;
      else node = node[key] = Object.create(null) as FormObject;
    }
  }
  return root;
}

/** `a[b][]` -> ['a', 'b', null]; undefined for an empty base name. */
function keyPath(name: string): Array<string | null> | undefined {
  const open = name.indexOf('[');
  let base = open === -1 ? name : name.slice(0, open);
  let rest = open === -1 ? '' : name.slice(open);
  if (rest !== '' && !rest.includes(']')) {
    // PHP: an unclosed bracket becomes part of the name.
    base = `${base}_${rest.slice(1)}`;
    rest = '';
  }
  base = base.replace(/^ +/, '').replace(/[ .]/g, '_');
  if (base === '') return undefined;
  const path: Array<string | null> = [base];
  while (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close === -1) break;
    const idx = rest.slice(1, close);
    path.push(idx === '' ? null : idx);
    rest = rest.slice(close + 1);
  }
  return path;
}

/** PHP urldecode: `+` is a space, a bad `%` escape stays literal, bytes are UTF-8. */
export function urldecode(s: string): string {
  if (!/[%+]/.test(s)) return s;
  const src = Buffer.from(s, 'utf8');
  const out = Buffer.alloc(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i] as number;
    if (c === 0x2b) out[n++] = 0x20;
    else if (c === 0x25 && i + 2 < src.length && isHex(src[i + 1]) && isHex(src[i + 2])) {
      out[n++] = parseInt(src.toString('latin1', i + 1, i + 3), 16);
      i += 2;
    } else out[n++] = c;
  }
  return out.toString('utf8', 0, n);
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));
}

/** The string at a path, or undefined when absent or not a string (a nested object where a value was expected). */
export function formString(form: FormObject, ...path: string[]): string | undefined {
  let node: FormValue | undefined = form;
  for (const key of path) {
    if (typeof node !== 'object') return undefined;
    node = node[key];
  }
  return typeof node === 'string' ? node : undefined;
}

const FORM_TYPE = 'application/x-www-form-urlencoded';

/**
 * The common start of a route that takes Bitrix24's form posts, after its address check (restrictTo): content type
 * (415), then the form (400). The parsed form, or the refusal to answer with.
 */
export function readFormPost(req: HttpRequest): { ok: true; form: FormObject } | { ok: false; response: HttpResponse } {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== FORM_TYPE) return { ok: false, response: errorResponse('UNSUPPORTED_MEDIA_TYPE', `content type must be ${FORM_TYPE}`) };
  try {
    return { ok: true, form: parseForm(req.body.toString('utf8')) };
  } catch (err) {
    return { ok: false, response: errorResponse('BAD_REQUEST', err instanceof FormError ? err.message : 'malformed form body') };
  }
}
