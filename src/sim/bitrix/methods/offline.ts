/**
 * event.offline.get / .clear / .list (source rest/lib/api/event.php, docs api-reference/events/event-offline-*.md)
 * and feature.get (source rest/classes/general/rest_provider.php getFeature). The offline methods need app auth
 * (gate) and an administrator; keys are lower-cased; clear=0 needs the plan feature rest_offline_extended.
 */
import { RestError, isoWithOffset, systemErrors } from '../envelope.js';
import type { MethodContext, MethodHandler } from '../dispatch.js';
import { GET_FIELDS, LIST_FIELDS, type OfflineRow, type Selection } from '../app/offline-queue.js';
import { sanitizeFilter, sanitizeOrder, type RowValue } from '../app/row-filter.js';
import { parsePhpDate } from '../php-date.js';
import { isPhpArray, isset, phpBool, phpEntries, phpInt, phpString, phpValues, setOwn, upperKeys, type Params } from '../php.js';
import { appOf, isAdmin } from './events.js';

const LIST_LIMIT = 50;

function lowerKeys(params: Params): Params {
  const out: Params = {};
  for (const [k, v] of phpEntries(params)) setOwn(out, k.toLowerCase(), v);
  return out;
}

function requireAdmin(ctx: MethodContext): void {
  if (!isAdmin(ctx)) throw systemErrors.accessDenied();
}

function selection(ctx: MethodContext, filter: unknown, order: unknown, fields: readonly string[]): Selection {
  const coerce = (field: string, value: unknown): RowValue | null => {
    if (field === 'ID' || field === 'ERROR') return phpInt(value);
    if (field === 'TIMESTAMP_X') return parsePhpDate(phpString(value), ctx.clock(), ctx.offsetMinutes);
    return phpString(value);
  };
  return { conditions: sanitizeFilter(filter, fields), sorts: sanitizeOrder(order, fields), coerce };
}

/** A row as the ORM fetches it: ID as a DB string, TIMESTAMP_X in ISO-8601, LOCAL_USER reduced to user_id. */
function rowJson(ctx: MethodContext, row: OfflineRow): Record<string, unknown> {
  const local = row.additional.LOCAL_USER;
  return {
    ID: String(row.id),
    TIMESTAMP_X: isoWithOffset(row.at, ctx.offsetMinutes),
    EVENT_NAME: row.eventName,
    EVENT_DATA: row.data,
    EVENT_ADDITIONAL: isset(local) ? { user_id: local } : row.additional,
    MESSAGE_ID: row.messageId,
  };
}

export const offlineGetMethod: MethodHandler = (params, ctx) => {
  const queue = appOf(ctx).offline;
  requireAdmin(ctx);
  const q = lowerKeys(params);
  const clear = isset(q.clear) ? phpInt(q.clear) : 1;
  let processId = isset(q.process_id) ? phpString(q.process_id).trim() : null;
  if (!clear && !ctx.policy.offlineExtended) throw systemErrors.wrongLicense('extended offline events handling');
  const limit = isset(q.limit) ? phpInt(q.limit) : LIST_LIMIT;
  const error = phpInt(q.error) === 1 ? 1 : 0;
  if (limit <= 0) throw systemErrors.argument('Value must be positive integer', 'LIMIT');
  const sel = selection(ctx, q.filter ?? [], q.order ?? { TIMESTAMP_X: 'ASC' }, GET_FIELDS);

  let returnProcessId = !clear;
  if (processId === null) processId = queue.mark(sel, limit, error);
  else returnProcessId = true;
  const rows = queue.ofProcess(processId, sel, limit, error);
  const events = rows.map((row) => rowJson(ctx, row));
  // clearEvents deletes every row of the process, not only the ones returned.
  if (clear && rows.length > 0) queue.clear(processId);
  return { result: { process_id: returnProcessId ? processId : null, events } };
};

export const offlineClearMethod: MethodHandler = (params, ctx) => {
  const queue = appOf(ctx).offline;
  requireAdmin(ctx);
  const q = lowerKeys(params);
  if (!isset(q.process_id)) throw systemErrors.argumentNull('PROCESS_ID');
  const processId = phpString(q.process_id).trim();
  // message_id wins over id (the docs say the opposite; the source checks message_id first).
  if (isset(q.message_id)) {
    if (!isPhpArray(q.message_id)) throw systemErrors.argument('Value must be array of MESSAGE_ID values', 'message_id');
    const ids = phpValues(q.message_id).map((v) => phpString(v).trim());
    // Sic: the source names the argument 'messsage_id' here.
    if (ids.some((id) => id.length !== 32)) throw systemErrors.argument('Value must be array of MESSAGE_ID values', 'messsage_id');
    queue.clear(processId, undefined, ids.length > 0 ? ids : undefined);
  } else if (isset(q.id)) {
    if (!isPhpArray(q.id)) throw systemErrors.argument('Value must be array of integers', 'id');
    const ids = phpValues(q.id).map(phpInt);
    if (ids.some((id) => id <= 0)) throw systemErrors.argument('Value must be array of integers', 'id');
    // An empty list leaves `$listIds` false: the whole process is cleared.
    queue.clear(processId, ids.length > 0 ? ids : undefined);
  } else {
    queue.clear(processId);
  }
  return { result: true };
};

export const offlineListMethod: MethodHandler = (params, ctx) => {
  const queue = appOf(ctx).offline;
  requireAdmin(ctx);
  const q = lowerKeys(params);
  const sel = selection(ctx, q.filter ?? [], q.order ?? { ID: 'ASC' }, LIST_FIELDS);
  const start = Math.max(0, phpInt(q.start));
  const rows = queue.list(sel);
  const page = rows.slice(start, start + LIST_LIMIT);
  return {
    result: page.map((row) => ({ ...rowJson(ctx, row), PROCESS_ID: row.processId, ERROR: String(row.error) })),
    total: rows.length,
    ...(start + page.length < rows.length ? { next: start + page.length } : {}),
  };
};

/** Cloud: Feature::isFeatureEnabled; every code the emulator does not know is 'N'. */
export const featureGetMethod: MethodHandler = (params, ctx) => {
  const code = upperKeys(params).CODE;
  if (!phpBool(code)) throw new RestError(400, 'CODE_EMPTY', "CODE can't be empty");
  const enabled = phpString(code) === 'rest_offline_extended' && ctx.policy.offlineExtended;
  return { result: { value: enabled ? 'Y' : 'N' } };
};
