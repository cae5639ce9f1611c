/**
 * PHP `http_build_query`-compatible encoding, needed for `batch`: each command is a
 * `"method?query"` string that the portal splits with parse_url and decodes with parse_str
 * (docs/reference/bitrix24-rest.md#batch), so nested params must use PHP bracket syntax.
 *
 * Brackets are left literal (`FILTER[UF_PHONE_INNER]=101`): parse_str accepts them as well as
 * `%5B`/`%5D`, and the literal form stays readable in debug output. Arrays are emitted with explicit
 * indices (`USER_ID[0]=1`), which PHP parses to the same list as `USER_ID[]=1`.
 */

const SAFE_SEGMENT = /^[A-Za-z0-9_-]+$/;
const METHOD_NAME = /^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/;

/** A batch back-reference, emitted raw so the portal can substitute an earlier command's result. */
export class BatchRef {
  readonly key: string;
  readonly path: readonly string[];

  constructor(key: string, path: readonly string[]) {
    // The reference is written unencoded, so anything that could end the value (&, =, #, ]) is refused.
    for (const segment of [key, ...path]) {
      if (!SAFE_SEGMENT.test(segment)) {
        throw new TypeError(`batch reference segment ${JSON.stringify(segment)} must match ${SAFE_SEGMENT}`);
      }
    }
    this.key = key;
    this.path = [...path];
  }

  toString(): string {
    return `$result[${this.key}]${this.path.map((p) => `[${p}]`).join('')}`;
  }
}

/** `ref('reg', 'CALL_ID')` → `$result[reg][CALL_ID]`, the result of batch command `reg`. */
export function ref(key: string, ...path: string[]): BatchRef {
  return new BatchRef(key, path);
}

/** PHP `urlencode`: like encodeURIComponent, plus `!'()*~` escaped and spaces as `+`. */
export function phpUrlencode(text: string): string {
  return encodeURIComponent(text)
    .replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

export function encodeQuery(params: Record<string, unknown>): string {
  const pairs: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    appendPairs(pairs, phpUrlencode(key), value);
  }
  return pairs.join('&');
}

function appendPairs(pairs: string[], name: string, value: unknown): void {
  // null/undefined vanish, as null does in http_build_query; so do empty arrays and objects.
  if (value === null || value === undefined) return;
  if (value instanceof BatchRef) {
    pairs.push(`${name}=${value.toString()}`);
    return;
  }
  switch (typeof value) {
    case 'string':
      pairs.push(`${name}=${phpUrlencode(value)}`);
      return;
    case 'boolean':
      // PHP reads "0"/"" as false and anything else ("N" too) as true, so always 1/0
      // (docs/reference/bitrix24-rest.md#php-truthiness).
      pairs.push(`${name}=${value ? '1' : '0'}`);
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`parameter ${name} is not a finite number`);
      pairs.push(`${name}=${phpUrlencode(String(value))}`);
      return;
    case 'bigint':
      pairs.push(`${name}=${value.toString()}`);
      return;
    case 'object': {
      // Only lists and plain records: a Date or Map would otherwise be dropped silently.
      const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : plainEntries(name, value);
      for (const [k, v] of entries) appendPairs(pairs, `${name}[${phpUrlencode(k)}]`, v);
      return;
    }
    default:
      throw new TypeError(`parameter ${name} has unsupported type ${typeof value}`);
  }
}

function plainEntries(name: string, value: object): [string, unknown][] {
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw new TypeError(`parameter ${name} must be a plain object, array or scalar (format dates as strings first)`);
  }
  return Object.entries(value);
}

/** Batch command keys are echoed inside `$result[key]` references, so they follow the same rule. */
export function assertBatchKey(key: string): void {
  if (!SAFE_SEGMENT.test(key)) {
    throw new TypeError(`batch command key ${JSON.stringify(key)} must match ${SAFE_SEGMENT}`);
  }
}

/** Method names go into URL paths and batch strings: allow only `word(.word)*`. */
export function assertMethodName(method: string): void {
  if (!METHOD_NAME.test(method)) {
    throw new TypeError(`invalid Bitrix24 method name ${JSON.stringify(method)}`);
  }
}

/** One `cmd` entry of a batch: `"method?query"` (just `"method"` when there are no params). */
export function buildBatchCommand(method: string, params: Record<string, unknown>): string {
  assertMethodName(method);
  const query = encodeQuery(params);
  return query === '' ? method : `${method}?${query}`;
}
