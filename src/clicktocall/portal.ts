import type { BitrixClient } from '../bitrix/client.js';
import { registerParams, type CommandOptions } from '../bitrix/commands.js';
import type { CallbackRegistration } from './service.js';

/**
 * The two Bitrix24 calls a callback needs before anything rings: register (TYPE 4) and, for target 'responsible',
 * the CRM entity's ASSIGNED_BY_ID. They go straight through the client, not the outbox: the HTTP handler needs the
 * CALL_ID to go on, and the client never retries (register is not idempotent), so a failure is reported, not repeated.
 */

export function callbackRegistrar(bitrix: BitrixClient, commands: CommandOptions, crmCreate: boolean): (r: CallbackRegistration) => Promise<string> {
  return async (r) => {
    const params = {
      ...registerParams(
        { type: 'register', linkedid: r.linkedid, userId: r.userId, phoneNumber: r.phoneNumber, callType: 4, lineNumber: r.lineNumber, startedAt: r.startedAt, crmCreate },
        commands,
      ),
      // The form's CRM entity: Bitrix24 binds the call to it without searching by number (§5.1).
      ...(r.crmEntityType !== undefined && r.crmEntityId !== undefined ? { CRM_ENTITY_TYPE: r.crmEntityType, CRM_ENTITY_ID: r.crmEntityId } : {}),
    };
    const result = await bitrix.call<{ CALL_ID?: unknown } | undefined>('telephony.externalcall.register', params);
    if (typeof result?.CALL_ID !== 'string') throw new Error('telephony.externalcall.register returned no CALL_ID');
    return result.CALL_ID;
  };
}

const GET_METHOD: Record<string, string> = { CONTACT: 'crm.contact.get', COMPANY: 'crm.company.get', LEAD: 'crm.lead.get' };

export function responsibleLookup(bitrix: BitrixClient): (entityType: string, entityId: number) => Promise<number | undefined> {
  return async (entityType, entityId) => {
    const method = GET_METHOD[entityType];
    if (method === undefined) return undefined;
    const entity = await bitrix.call<{ ASSIGNED_BY_ID?: unknown } | undefined>(method, { id: entityId });
    const id = Number(entity?.ASSIGNED_BY_ID);
    return Number.isInteger(id) && id > 0 ? id : undefined;
  };
}
