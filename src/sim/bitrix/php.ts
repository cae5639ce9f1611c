/**
 * PHP value semantics the Bitrix REST layer applies to request parameters.
 * Form values are always strings and JSON values keep their types, so every
 * handler reads params through these casts instead of trusting JS truthiness.
 */

export type Params = Record<string, unknown>;

/** `isset($x)`: present and not null. */
export function isset(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** A PHP array arrives here as a JS array (list) or a plain object (map). */
export function isPhpArray(value: unknown): value is unknown[] | Record<string, unknown> {
  return Array.isArray(value) || (typeof value === 'object' && value !== null && !Buffer.isBuffer(value));
}

export function phpEntries(value: unknown): Array<[string, unknown]> {
  if (Array.isArray(value)) return value.map((v, i) => [String(i), v]);
  if (isPhpArray(value)) return Object.entries(value);
  return [];
}

export function phpValues(value: unknown): unknown[] {
  return phpEntries(value).map(([, v]) => v);
}

/** `(bool)$x`: "0", "", 0, 0.0, null, [] are false; "N" and "false" are true. */
export function phpBool(value: unknown): boolean {
  if (value === undefined || value === null || value === false) return false;
  if (typeof value === 'number') return value !== 0 && !Number.isNaN(value);
  if (typeof value === 'string') return value !== '' && value !== '0';
  if (isPhpArray(value)) return phpEntries(value).length > 0;
  return true;
}

/** `(int)$x`, including PHP's leading-numeric-prefix rule for strings ("12abc" → 12). */
export function phpInt(value: unknown): number {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : 0;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string') {
    const m = /^[ \t\n\r\v\f]*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(value);
    if (!m) return 0;
    const n = Number(m[0].trim());
    return Number.isFinite(n) ? Math.trunc(n) : 0;
  }
  if (isPhpArray(value)) return phpEntries(value).length > 0 ? 1 : 0;
  return 0;
}

/** `(float)$x`. */
export function phpFloat(value: unknown): number {
  if (typeof value === 'number') return Number.isFinite(value) ? value : 0;
  if (typeof value === 'string') {
    const m = /^[ \t\n\r\v\f]*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(value);
    return m ? Number(m[0].trim()) : 0;
  }
  return phpInt(value);
}

/** `(string)$x`: arrays become "Array", true "1", false/null "". */
export function phpString(value: unknown): string {
  if (value === undefined || value === null || value === false) return '';
  if (value === true) return '1';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (isPhpArray(value)) return 'Array';
  return String(value);
}

/** PHP 8 numeric string: optional surrounding whitespace around a decimal number. */
function isNumericString(s: string): boolean {
  return /^[ \t\n\r\v\f]*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?[ \t\n\r\v\f]*$/.test(s);
}

/** Loose `$value == $int` as PHP 8 evaluates it (used by `in_array` without strict). */
export function phpLooseEqualsInt(value: unknown, n: number): boolean {
  if (typeof value === 'number') return value === n;
  if (typeof value === 'boolean') return value === (n !== 0);
  if (typeof value === 'string') return isNumericString(value) && Number(value.trim()) === n;
  if (value === null || value === undefined) return n === 0;
  return false;
}

/** `array_change_key_case($a, CASE_UPPER)`: later keys win on collision. */
export function upperKeys(params: unknown): Params {
  const out: Params = {};
  for (const [k, v] of phpEntries(params)) setOwn(out, k.toUpperCase(), v);
  return out;
}

/** Assign without tripping over `__proto__` coming from untrusted input. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/**
 * How `json_encode` renders a PHP array built from these entries: `[]` when
 * empty, a JSON list when keys are exactly 0..n-1 in order, otherwise an object.
 */
export function phpAssoc(entries: Array<[string, unknown]>): unknown[] | Record<string, unknown> {
  if (entries.every(([k], i) => k === String(i))) return entries.map(([, v]) => v);
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) setOwn(out, k, v);
  return out;
}

/** Bitrix `GetFileExtension`: text after the last dot of the base name, case kept. */
export function fileExtension(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  return dot === -1 ? '' : base.slice(dot + 1);
}

/** Digits only: how CRM phone matching compares numbers in the emulator. */
export function phoneDigits(phone: string): string {
  return phone.replace(/\D+/g, '');
}
