/**
 * IRestService::sanitizeFilter / sanitizeOrder (source rest/classes/general/rest.php) and their application to
 * in-memory rows: keys are upper-cased, an operator prefix ('', '=', '>', '<', '>=', '<=', '@', '%') is split off,
 * unknown fields and operators fail with ERROR_ARGUMENT.
 */
import { RestError } from '../envelope.js';
import { isPhpArray, phpEntries, phpString, phpValues } from '../php.js';

const OPERATIONS = ['', '=', '>', '<', '>=', '<=', '@', '%'];

export type RowValue = string | number;

export interface Condition {
  op: string;
  field: string;
  value: unknown;
}

export interface Sort {
  field: string;
  desc: boolean;
}

function argumentError(message: string): RestError {
  return new RestError(400, 'ERROR_ARGUMENT', message);
}

export function sanitizeFilter(filter: unknown, fields: readonly string[]): Condition[] {
  if (!isPhpArray(filter)) throw argumentError('The filter is not an array.');
  const out: Condition[] = [];
  for (const [rawKey, value] of phpEntries(filter)) {
    const key = rawKey.toUpperCase();
    const m = /^([^a-zA-Z]*)(.*)$/s.exec(key);
    const op = m?.[1] ?? '';
    const field = m?.[2] ?? '';
    if (!OPERATIONS.includes(op)) throw argumentError(`Filter operation not allowed: ${op}`);
    if (!fields.includes(field)) throw argumentError(`Filter field not allowed: ${field}`);
    out.push({ op, field, value });
  }
  return out;
}

export function sanitizeOrder(order: unknown, fields: readonly string[]): Sort[] {
  if (!isPhpArray(order)) throw argumentError('The order is not an array.');
  const out: Sort[] = [];
  for (const [rawKey, value] of phpEntries(order)) {
    if (/^\d+$/.test(rawKey)) {
      // A list entry names the field and sorts ascending.
      const field = phpString(value);
      if (!fields.includes(field)) throw argumentError(`Order field not allowed: ${field}`);
      out.push({ field, desc: false });
      continue;
    }
    const field = rawKey.toUpperCase();
    if (!fields.includes(field)) throw argumentError(`Order field not allowed: ${field}`);
    const direction = phpString(value).toUpperCase();
    if (direction !== 'ASC' && direction !== 'DESC') throw argumentError('Order direction should be one of {ASC|DESC}');
    out.push({ field, desc: direction === 'DESC' });
  }
  return out;
}

/** `read` gives a row's value; `coerce` turns a filter value into the field's type (or null: matches nothing). */
export function matches(
  read: (field: string) => RowValue,
  conditions: readonly Condition[],
  coerce: (field: string, value: unknown) => RowValue | null,
): boolean {
  return conditions.every(({ op, field, value }) => {
    const actual = read(field);
    if (op === '@') {
      return phpValues(isPhpArray(value) ? value : [value]).some((v) => coerce(field, v) === actual);
    }
    if (op === '%') return String(actual).toLowerCase().includes(phpString(value).toLowerCase());
    const wanted = coerce(field, value);
    if (wanted === null) return false;
    switch (op) {
      case '>': return actual > wanted;
      case '<': return actual < wanted;
      case '>=': return actual >= wanted;
      case '<=': return actual <= wanted;
      default: return actual === wanted;
    }
  });
}

/** Sorts by the given keys, then by ID ascending (the table's natural order). */
export function sortRows<T>(rows: T[], sorts: readonly Sort[], read: (row: T, field: string) => RowValue, id: (row: T) => number): T[] {
  return [...rows].sort((a, b) => {
    for (const { field, desc } of sorts) {
      const x = read(a, field);
      const y = read(b, field);
      if (x !== y) return (x < y ? -1 : 1) * (desc ? -1 : 1);
    }
    return id(a) - id(b);
  });
}
