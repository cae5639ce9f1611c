/**
 * telephony.externalcall.finish (docs/reference/bitrix24-telephony.md#finish): writes the statistics row, hides
 * the card of the finishing user only, and deletes the live call.
 */
import { RestError } from '../envelope.js';
import type { MethodContext, MethodHandler } from '../dispatch.js';
import { phpBool, phpFloat, phpInt, phpString } from '../php.js';
import type { CallState, StatisticRow } from '../types.js';
import { downloadRecord } from './telephony-record.js';
import { hideCard } from './telephony-card.js';
import { resolveUserId } from './telephony-register.js';

export const finishMethod: MethodHandler = (params, ctx) => {
  const userId = resolveUserId(params, ctx.state);
  if (userId === false) throw ctx.fail('USER_ID or USER_PHONE_INNER should be set');
  // A JSON number or a missing CALL_ID is rejected with a real code (source voximplant/classes/general/vi_rest.php).
  const callId = params.CALL_ID;
  if (typeof callId !== 'string') throw new RestError(400, 'INVALID_ARGUMENT', 'CALL_ID must be a string');
  const call = ctx.state.liveCall(callId);
  // Sic: the real text has no closing parenthesis; a second finish gets it too.
  if (!call) throw ctx.fail('Call is not found (call should be registered prior to finishing');
  if (!ctx.state.activeRealUser(userId)) throw ctx.fail('User is not found or is not active');

  hideCard(call, [userId]);

  const duration = phpInt(params.DURATION);
  const statusCode = phpString(params.STATUS_CODE);
  const row: StatisticRow = {
    CALL_ID: call.callId,
    EXTERNAL_CALL_ID: call.externalCallId,
    PORTAL_USER_ID: userId,
    PHONE_NUMBER: call.phone,
    PORTAL_NUMBER: call.portalNumber,
    INCOMING: String(call.type),
    CALL_DURATION: duration,
    // A Bitrix DateTime object serialises as {} (docs/reference/bitrix24-rest.md#json-shapes).
    CALL_START_DATE: {},
    CALL_STATUS: duration > 0 ? 1 : 0,
    CALL_VOTE: phpInt(params.VOTE),
    COST: phpFloat(params.COST),
    COST_CURRENCY: phpString(params.COST_CURRENCY),
    // `?:` — "" and "0" fall back to the default; any other text is stored as is.
    CALL_FAILED_CODE: phpBool(statusCode) ? statusCode : duration > 0 ? '200' : '304',
    CALL_FAILED_REASON: phpString(params.FAILED_REASON),
    // Webhook calls have no REST app; the app's calls carry its id and name
    // (docs/reference/bitrix24-telephony.md#finish-result).
    REST_APP_ID: call.restAppId,
    REST_APP_NAME: call.restAppId === null ? false : (ctx.app?.config.name ?? false),
    CRM_ACTIVITY_ID: null,
    COMMENT: null,
    ID: 0,
  };

  // Entities created by register now belong to the finishing user.
  for (const created of call.createdEntities) {
    const lead = ctx.state.crm.LEAD.get(created.ENTITY_ID);
    if (created.ENTITY_TYPE === 'LEAD' && lead) lead.assignedById = userId;
  }
  const hasPrimary = phpString(call.crmEntityType) !== '' && phpInt(call.crmEntityId) > 0;
  const activityError = addActivity(ctx, call, row);
  const ordered: StatisticRow = { ...withoutId(row) } as StatisticRow;
  if (hasPrimary) {
    ordered.CRM_ENTITY_TYPE = call.crmEntityType;
    ordered.CRM_ENTITY_ID = call.crmEntityId;
  }
  ordered.ID = ctx.state.nextId('statistic');
  ctx.state.statistics.push(ordered);

  const recordUrl = phpString(params.RECORD_URL);
  // Deprecated RECORD_URL: an agent downloads it later; failures are silent.
  if (recordUrl !== '') void downloadRecord(recordUrl, '').then((r) => attachDownloaded(ctx, call.callId, r), () => {});

  // Source: `ADD_TO_CHAT != false`, so an omitted value means no chat message
  // (docs/reference/bitrix24-telephony.md#finish-parameters).
  if (phpBool(params.ADD_TO_CHAT)) {
    ctx.state.chatMessages.push({ userId, phone: call.phone, type: String(call.type), callId: call.callId });
  }

  call.finished = true;
  call.finishedBy = userId;
  const result: Record<string, unknown> = { ...ordered };
  if (activityError) result.ERRORS = { ACTIVITY_CREATION: activityError };
  return { result };
};

function withoutId(row: StatisticRow): Record<string, unknown> {
  const { ID: _id, ...rest } = row;
  return rest;
}

/** Creates the CRM call activity; returns the error text when there is nothing to bind to. */
function addActivity(ctx: MethodContext, call: CallState, row: StatisticRow): string | undefined {
  const found = ctx.state.findCrmByPhone(call.phone);
  let bindings: Array<{ type: string; id: unknown }> = [...found.CONTACT, ...found.COMPANY, ...found.LEAD].map((e) => ({ type: e.type, id: e.id }));
  if (bindings.length === 0 && call.crmEntityType && call.crmEntityId) {
    bindings = [{ type: call.crmEntityType, id: call.crmEntityId }];
  }
  if (bindings.length === 0) return 'Could not find associated crm entity for the current call';
  const id = ctx.state.nextId('activity');
  ctx.state.activities.push({ id, callId: call.callId, bindings });
  row.CRM_ACTIVITY_ID = id;
  return undefined;
}

function attachDownloaded(ctx: MethodContext, callId: string, r: { fileName: string; bytes: Buffer }): void {
  ctx.state.attachRecord({ callId, fileName: r.fileName, bytes: r.bytes, mode: 'url' });
}
