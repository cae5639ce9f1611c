/**
 * user.get / user.current (docs/reference/bitrix24-telephony.md#users-and-extensions): filter top-level or in
 * FILTER (which then replaces the query), keys upper-cased, unknown fields ignored, bots hidden,
 * 50 per page with top-level total/next, `[]` and no total when nothing matches.
 */
import type { MethodHandler } from '../dispatch.js';
import { isPhpArray, isset, phpInt, phpString, phpValues, upperKeys, type Params } from '../php.js';
import type { UserRow } from '../state.js';

const PAGE = 50;
const OPERATORS = ['!><', '><', '>=', '<=', '!=', '!%', '=%', '%=', '!@', '!', '=', '>', '<', '%', '@'];

type FieldValue = string | number | null | number[];

function fieldValue(user: UserRow, field: string): FieldValue | undefined {
  switch (field) {
    case 'ID': return user.id;
    case 'ACTIVE': return user.active ? 'Y' : 'N';
    case 'NAME': return user.name;
    case 'LAST_NAME': return user.lastName;
    case 'EMAIL': return user.email;
    case 'UF_PHONE_INNER': return user.ufPhoneInner;
    case 'WORK_POSITION': return user.workPosition;
    case 'WORK_PHONE': return user.workPhone;
    case 'PERSONAL_PHONE': return user.personalPhone;
    case 'PERSONAL_MOBILE': return user.personalMobile;
    case 'UF_DEPARTMENT': return user.department;
    case 'USER_TYPE': return user.userType;
    case 'IS_ONLINE': return 'N';
    default: return undefined; // unknown fields are silently ignored
  }
}

/** ORM value normalisation: booleans become Y/N (ACTIVE: true → only active). */
function filterScalar(v: unknown): string {
  if (v === true) return 'Y';
  if (v === false) return 'N';
  return phpString(v);
}

function matches(user: UserRow, op: string, field: string, raw: unknown): boolean {
  const value = fieldValue(user, field);
  if (value === undefined) return true;
  const actual = Array.isArray(value) ? value.map(String) : [value === null ? '' : String(value)];
  const wanted = isPhpArray(raw) ? phpValues(raw).map(filterScalar) : [filterScalar(raw)];
  const equal = actual.some((a) => wanted.includes(a));
  const like = actual.some((a) => wanted.some((w) => a.toLowerCase().includes(w.toLowerCase())));
  const num = Number(actual[0]);
  const target = Number(wanted[0]);
  switch (op) {
    case '': case '=': case '@': return equal;
    case '!': case '!=': case '!@': return !equal;
    case '%': case '=%': case '%=': return like;
    case '!%': return !like;
    case '>': return num > target;
    case '>=': return num >= target;
    case '<': return num < target;
    case '<=': return num <= target;
    default: return true;
  }
}

function toFilter(query: Params): Array<{ op: string; field: string; value: unknown }> {
  return Object.entries(query).map(([key, value]) => {
    const op = OPERATORS.find((o) => key.startsWith(o)) ?? '';
    return { op, field: key.slice(op.length), value };
  });
}

export function userJson(user: UserRow): Record<string, unknown> {
  return {
    ID: String(user.id), // IDs are strings on the wire (docs/reference/bitrix24-rest.md#json-shapes)
    XML_ID: null,
    ACTIVE: user.active,
    NAME: user.name,
    LAST_NAME: user.lastName,
    SECOND_NAME: '',
    TITLE: '',
    EMAIL: user.email,
    IS_ONLINE: 'N',
    TIMESTAMP_X: {},
    PERSONAL_PHONE: user.personalPhone,
    PERSONAL_MOBILE: user.personalMobile,
    WORK_PHONE: user.workPhone,
    WORK_POSITION: user.workPosition,
    UF_DEPARTMENT: user.department,
    UF_PHONE_INNER: user.ufPhoneInner,
    USER_TYPE: user.userType,
  };
}

export const userGetMethod: MethodHandler = (params, ctx) => {
  // CRestServer strips lowercase `start` before the method sees the query.
  const { start: rawStart, ...rest } = params;
  let query = upperKeys(rest);
  const sort = phpString(query.SORT);
  const order = phpString(query.ORDER).toUpperCase();
  // "a mistake kept for backward compatibility": FILTER replaces the whole query.
  if (isset(query.FILTER) && isPhpArray(query.FILTER)) query = upperKeys(query.FILTER);

  const filter = toFilter(query);
  let users = [...ctx.state.users.values()]
    .filter((u) => u.isRealUser)
    .filter((u) => filter.every((f) => matches(u, f.op, f.field, f.value)))
    .sort((a, b) => a.id - b.id);
  if (sort && order) {
    const dir = order === 'DESC' ? -1 : 1;
    users = users.sort((a, b) => compare(fieldValue(a, sort.toUpperCase()), fieldValue(b, sort.toUpperCase())) * dir);
  }

  const start = phpInt(rawStart);
  const offset = Math.max(0, start);
  const page = users.slice(offset, offset + PAGE).map(userJson);
  if (page.length === 0) return { result: [] };
  if (start === -1) return { result: page }; // start=-1 disables counting
  const next = offset + PAGE < users.length ? offset + PAGE : undefined;
  return next === undefined ? { result: page, total: users.length } : { result: page, total: users.length, next };
};

function compare(a: FieldValue | undefined, b: FieldValue | undefined): number {
  const x = a === undefined || a === null ? '' : String(a);
  const y = b === undefined || b === null ? '' : String(b);
  const nx = Number(x);
  const ny = Number(y);
  if (x !== '' && y !== '' && !Number.isNaN(nx) && !Number.isNaN(ny)) return nx - ny;
  return x.localeCompare(y);
}

export const userCurrentMethod: MethodHandler = (_params, ctx) => {
  const user = ctx.state.users.get(ctx.ownerId);
  return { result: user ? userJson(user) : { ID: String(ctx.ownerId) } };
};
