/**
 * telephony.externalcall.register (docs/reference/bitrix24-telephony.md#register): REST-wrapper validation
 * order, then the helper logic — dedup, CALL_ID, CRM search/binding, lead creation, SHOW.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { MethodContext, MethodHandler } from '../dispatch.js';
import { parsePhpDate } from '../php-date.js';
import { isset, phpBool, phpInt, phpLooseEqualsInt, phpString, type Params } from '../php.js';
import type { CrmRow, EmulatorState } from '../state.js';
import type { CallState, CreatedEntity } from '../types.js';
import { showCard } from './telephony-card.js';

const DEDUP_WINDOW_MS = 30 * 60_000;
const CALL_TYPES = [1, 2, 3, 4, 5];

/** `CVoxImplantPhone::stripLetters`: keeps only 0-9 # * + , ; */
export function stripLetters(phone: string): string {
  return phone.replace(/[^0-9#*+,;]/g, '');
}

/** USER_ID wins when non-zero, otherwise USER_PHONE_INNER; false when neither resolves. */
export function resolveUserId(params: Params, state: EmulatorState): number | false {
  const id = phpInt(params.USER_ID);
  if (id !== 0) return id;
  const inner = params.USER_PHONE_INNER;
  if (!isset(inner)) return false;
  return state.userByInner(phpString(inner))?.id ?? false;
}

export interface RegisterInput {
  userId: number;
  phoneNumber: unknown;
  type: number;
  startMs: number;
  lineNumber?: unknown;
  externalCallId?: unknown;
  crm?: unknown;
  crmCreate?: unknown;
  crmSource?: unknown;
  crmEntityType?: unknown;
  crmEntityId?: unknown;
  show: boolean;
  via: CallState['registeredVia'];
  /** The caller's REST_APP_ID (null = webhook): part of the dedup key, owner of auto-created lines. */
  restAppId: number | null;
}

export const registerMethod: MethodHandler = (params, ctx) => {
  const userId = resolveUserId(params, ctx.state);
  // Also the answer when USER_PHONE_INNER matches nobody
  // (docs/reference/bitrix24-telephony.md#register-validation-order).
  if (userId === false) throw ctx.fail('USER_ID or USER_PHONE_INNER should be set');
  if (!CALL_TYPES.some((t) => phpLooseEqualsInt(params.TYPE, t))) throw ctx.fail('Unknown TYPE');

  let startMs = ctx.clock();
  const rawDate = params.CALL_START_DATE;
  if (isset(rawDate) && rawDate !== '') {
    const parsed =
      typeof rawDate === 'string' || typeof rawDate === 'number'
        ? parsePhpDate(String(rawDate), ctx.clock(), ctx.offsetMinutes)
        : null;
    if (parsed === null) throw ctx.fail('CALL_START_DATE should be in the ISO-8601 format');
    startMs = parsed;
  }

  const result = registerCall(
    {
      userId,
      phoneNumber: params.PHONE_NUMBER,
      type: phpInt(params.TYPE),
      startMs,
      lineNumber: params.LINE_NUMBER,
      externalCallId: params.EXTERNAL_CALL_ID,
      crm: params.CRM,
      crmCreate: params.CRM_CREATE,
      crmSource: params.CRM_SOURCE,
      crmEntityType: params.CRM_ENTITY_TYPE,
      crmEntityId: params.CRM_ENTITY_ID,
      // `isset ? (bool) : true` — "N" shows the card, "0" does not (docs/reference/bitrix24-rest.md#php-truthiness).
      show: isset(params.SHOW) ? phpBool(params.SHOW) : true,
      via: 'rest',
      restAppId: ctx.auth.appId,
    },
    ctx,
  );
  return { result };
};

/**
 * Helper part of register; also used for click-to-call's internal registration
 * (docs/reference/bitrix24-telephony.md#click-to-call-event).
 */
export function registerCall(
  input: RegisterInput,
  ctx: Pick<MethodContext, 'state' | 'clock' | 'fail'>,
): Record<string, unknown> {
  const { state } = ctx;
  const phone = stripLetters(phpString(input.phoneNumber));
  if (phone === '') throw ctx.fail('Unsupported phone number format');
  if (!state.activeRealUser(input.userId)) throw ctx.fail('User is not found or is not active');

  const lineNumber = isset(input.lineNumber) ? phpString(input.lineNumber).trim().slice(0, 50) : '';
  // Unknown LINE_NUMBERs are auto-created for the calling app (docs/reference/bitrix24-telephony.md#external-lines).
  const app = input.restAppId;
  const line = lineNumber === '' ? undefined : (state.lineByNumber(lineNumber, app) ?? state.addLine(lineNumber, null, 'Y', app));
  const externalCallId = isset(input.externalCallId) ? phpString(input.externalCallId) : null;
  const internal = state.isPortalPhone(phone);
  const now = ctx.clock();

  const duplicate = [...state.calls.values()].find(
    (c) =>
      !c.finished &&
      c.userId === input.userId &&
      c.phone === phone &&
      c.type === input.type &&
      c.restAppId === app &&
      c.startedAt > now - DEDUP_WINDOW_MS &&
      (line === undefined || c.lineNumber === line.number) &&
      (externalCallId === null || c.externalCallId === externalCallId),
  );
  if (duplicate) {
    if (input.show) showCard(duplicate, [duplicate.userId]);
    // The dedup path returns the stored values uncast (type may be null) and no LEAD_CREATION_ERROR.
    return {
      CALL_ID: duplicate.callId,
      CRM_CREATED_LEAD: duplicate.createdLeadId ?? null,
      CRM_CREATED_ENTITIES: duplicate.createdEntities.map((e) => ({ ...e })),
      CRM_ENTITY_TYPE: duplicate.crmEntityType,
      CRM_ENTITY_ID: duplicate.crmEntityId || null,
    };
  }

  const call: CallState = {
    callId: newCallId(now),
    userId: input.userId,
    phone,
    type: input.type,
    lineNumber: line?.number ?? null,
    portalNumber: line?.number ?? 'REST_APP:',
    externalCallId,
    startedAt: input.startMs,
    internal,
    crmEntityType: null,
    crmEntityId: null,
    createdLeadId: null,
    createdEntities: [],
    shownTo: new Set(),
    hiddenFor: new Set(),
    finished: false,
    finishedBy: null,
    registeredVia: input.via,
    restAppId: app,
  };
  state.calls.set(call.callId, call);

  if (isset(input.crmEntityType) && isset(input.crmEntityId)) {
    // Bound as primary entity without any existence check (docs/reference/bitrix24-telephony.md#crm-binding).
    call.crmEntityType = phpString(input.crmEntityType);
    call.crmEntityId = input.crmEntityId;
  } else if (!internal) {
    const primary = primaryEntity(state, phone);
    if (primary) {
      call.crmEntityType = primary.type;
      call.crmEntityId = primary.id;
    }
  }

  let leadCreationError: string | undefined;
  const crmCreate = (phpBool(input.crm) || phpBool(input.crmCreate)) && !internal;
  // Docs: outgoing calls through a line with CRM_AUTO_CREATE=N create nothing.
  const lineForbids = input.type === 1 && line?.crmAutoCreate === 'N';
  if (crmCreate && !call.crmEntityType && !lineForbids) {
    if (state.isLocalUserPhone(phone)) leadCreationError = 'Lead creation is disabled for local users';
    else createLead(state, call, phpString(input.crmSource));
  }

  if (input.show) showCard(call, [call.userId]);

  const result: Record<string, unknown> = {
    CALL_ID: call.callId,
    CRM_CREATED_LEAD: call.createdLeadId,
    CRM_CREATED_ENTITIES: call.createdEntities.map((e) => ({ ...e })),
    CRM_ENTITY_TYPE: call.crmEntityType ?? '',
    CRM_ENTITY_ID: phpInt(call.crmEntityId) || null,
  };
  if (leadCreationError !== undefined) result.LEAD_CREATION_ERROR = leadCreationError;
  return result;
}

/** `externalCall.` + 32 hex + `.` + unix seconds of registration (docs/reference/bitrix24-telephony.md#call-id). */
function newCallId(nowMs: number): string {
  const md5 = createHash('md5').update(randomBytes(16)).digest('hex');
  return `externalCall.${md5}.${Math.floor(nowMs / 1000)}`;
}

/** Primary entity found by phone: contacts first, then companies, then leads. */
function primaryEntity(state: EmulatorState, phone: string): CrmRow | undefined {
  const found = state.findCrmByPhone(phone);
  return found.CONTACT[0] ?? found.COMPANY[0] ?? found.LEAD[0];
}

function createLead(state: EmulatorState, call: CallState, crmSource: string): void {
  const id = state.nextId('lead');
  const label = call.type === 2 || call.type === 3 ? 'Incoming call' : call.type === 4 ? 'Callback' : 'Outgoing call';
  state.crm.LEAD.set(id, {
    type: 'LEAD',
    id,
    name: '',
    lastName: '',
    title: `${call.phone} - ${label}`,
    phones: [{ VALUE: call.phone, VALUE_TYPE: 'WORK' }],
    // Responsible starts as the call user; finish reassigns it (docs/reference/bitrix24-telephony.md#crm-binding).
    assignedById: call.userId,
    sourceId: crmSource || 'CALL',
    origin: 'register',
  });
  const created: CreatedEntity = { ENTITY_TYPE: 'LEAD', ENTITY_ID: id };
  call.createdEntities.push(created);
  call.createdLeadId = id;
  call.crmEntityType = 'LEAD';
  call.crmEntityId = id;
}
