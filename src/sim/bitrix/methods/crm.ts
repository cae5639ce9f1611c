/**
 * CRM helpers (docs/reference/bitrix24-telephony.md#crm-helpers): crm.duplicate.findbycomm, crm.lead.add,
 * crm.{lead,contact,company}.get and crm.timeline.comment.add. CRM errors mostly carry an empty
 * code like telephony ones.
 */
import { RestError } from '../envelope.js';
import type { MethodHandler } from '../dispatch.js';
import { isPhpArray, phoneDigits, phpInt, phpString, phpValues, type Params } from '../php.js';
import type { CrmRow, CrmType, EmulatorState } from '../state.js';

const FIND_ORDER: CrmType[] = ['LEAD', 'CONTACT', 'COMPANY'];
const MAX_VALUES = 20;
const MAX_HITS = 20;

/** CRM reads documented lowercase keys and tolerates the uppercase spelling. */
function param(params: Params, name: string): unknown {
  return params[name] ?? params[name.toUpperCase()];
}

/** Here the error *code* is the human text (docs/reference/bitrix24-telephony.md#crm-helpers). */
function commError(code: string, description = code): RestError {
  return new RestError(400, code, description);
}

export const findByCommMethod: MethodHandler = (params, ctx) => {
  const type = phpString(param(params, 'type')).toUpperCase();
  if (type === '') throw commError('Communication type is not defined', "Parameter 'type' is required.");
  if (type !== 'PHONE' && type !== 'EMAIL') {
    throw commError(`Communication type '${type}' is not supported in current context`);
  }
  const rawValues = param(params, 'values');
  const values = (isPhpArray(rawValues) ? phpValues(rawValues) : []).map(phpString).filter((v) => v !== '');
  if (values.length === 0) throw commError('Communication values is not defined');
  const entityType = phpString(param(params, 'entity_type')).toUpperCase();
  if (entityType !== '' && !FIND_ORDER.includes(entityType as CrmType)) {
    throw commError(`Entity type '${entityType}' is not supported in current context`);
  }
  // The seed has no e-mails, so EMAIL never matches.
  if (type === 'EMAIL') return { result: [] };
  return { result: findByPhones(ctx.state, values.slice(0, MAX_VALUES), entityType) };
};

/** `{LEAD:[ids], CONTACT:[ids], COMPANY:[ids]}` with only non-empty types; `[]` when nothing. */
function findByPhones(state: EmulatorState, values: string[], entityType: string): unknown {
  const wanted = new Set(values.map((v) => phoneDigits(v.split(/[,;]|ext|доб/i)[0] ?? v)));
  const out: Record<string, number[]> = {};
  for (const type of FIND_ORDER) {
    if (entityType !== '' && entityType !== type) continue;
    const ids = [...state.crm[type].values()]
      .filter((row) => row.phones.some((p) => wanted.has(phoneDigits(p.VALUE))))
      .map((row) => row.id)
      .sort((a, b) => a - b)
      .slice(0, MAX_HITS);
    if (ids.length > 0) out[type] = ids;
    // With 20 hits for one type the later types are not searched (docs/reference/bitrix24-telephony.md#crm-helpers).
    if (ids.length >= MAX_HITS) break;
  }
  return Object.keys(out).length === 0 ? [] : out;
}

export const leadAddMethod: MethodHandler = (params, ctx) => {
  const fields = param(params, 'fields');
  if (!isPhpArray(fields) || Array.isArray(fields)) throw ctx.fail("The parameter 'fields' must be array.");
  return { result: addLead(ctx.state, fields, ctx.ownerId) };
};

function addLead(state: EmulatorState, fields: Params, ownerId: number): number {
  const id = state.nextId('lead');
  const phones = phpValues(fields.PHONE)
    .filter(isPhpArray)
    .map((p) => {
      const entry = p as Params;
      return { VALUE: phpString(entry.VALUE), VALUE_TYPE: phpString(entry.VALUE_TYPE) || 'WORK' };
    })
    .filter((p) => p.VALUE !== '');
  state.crm.LEAD.set(id, {
    type: 'LEAD',
    id,
    name: phpString(fields.NAME),
    lastName: phpString(fields.LAST_NAME),
    title: phpString(fields.TITLE) || `Lead #${id}`,
    phones,
    assignedById: phpInt(fields.ASSIGNED_BY_ID) || ownerId,
    sourceId: phpString(fields.SOURCE_ID),
    origin: 'rest',
    extra: { ...fields },
  });
  return id;
}

function entityGetMethod(type: CrmType): MethodHandler {
  return (params, ctx) => {
    const id = phpInt(param(params, 'id'));
    if (id <= 0) throw ctx.fail("The parameter 'ownerEntityID' is invalid or not defined.");
    const row = ctx.state.crm[type].get(id);
    if (!row) throw ctx.fail('Not found');
    return { result: crmJson(row) };
  };
}

export const leadGetMethod = entityGetMethod('LEAD');
export const contactGetMethod = entityGetMethod('CONTACT');
export const companyGetMethod = entityGetMethod('COMPANY');

function crmJson(row: CrmRow): Record<string, unknown> {
  return {
    ID: String(row.id),
    TITLE: row.title || null,
    NAME: row.name || null,
    LAST_NAME: row.lastName || null,
    ASSIGNED_BY_ID: String(row.assignedById),
    ...(row.type === 'LEAD' ? { SOURCE_ID: row.sourceId ?? null, STATUS_ID: 'NEW' } : {}),
    HAS_PHONE: row.phones.length > 0 ? 'Y' : 'N',
    PHONE: row.phones.map((p, i) => ({ ID: String(i + 1), VALUE_TYPE: p.VALUE_TYPE, VALUE: p.VALUE, TYPE_ID: 'PHONE' })),
  };
}

const TIMELINE_TYPES: Record<string, CrmType | null> = { lead: 'LEAD', contact: 'CONTACT', company: 'COMPANY', deal: null };

export const timelineCommentAddMethod: MethodHandler = (params, ctx) => {
  // Since crm 23.100 only lowercase `fields` is accepted.
  const fields = params.fields;
  if (!isPhpArray(fields) || Array.isArray(fields)) throw new RestError(400, '100', 'Required fields not provided');
  const entityTypeName = phpString(fields.ENTITY_TYPE).toLowerCase();
  const entityId = phpInt(fields.ENTITY_ID);
  const comment = phpString(fields.COMMENT).trim();
  if (!(entityTypeName in TIMELINE_TYPES) || entityId <= 0) {
    throw new RestError(400, 'OWNER_NOT_FOUND', 'Owner of the element not found');
  }
  const crmType = TIMELINE_TYPES[entityTypeName];
  if (crmType && !ctx.state.crm[crmType].has(entityId)) throw new RestError(400, 'NOT_FOUND', 'Not found.');
  if (comment === '') throw new RestError(400, 'INVALID_ARG_VALUE', 'Empty comment');
  const id = ctx.state.nextId('comment');
  ctx.state.comments.push({ id, entityType: entityTypeName, entityId, comment });
  return { result: id };
};
