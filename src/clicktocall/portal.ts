import type { BitrixClient } from '../bitrix/client.js';

/**
 * What a callback reads from Bitrix24 before anything rings: for target 'responsible', the CRM entity's
 * ASSIGNED_BY_ID. A read, straight through the client; the callback's register is the core's, through the outbox.
 */

const GET_METHOD: Record<string, string> = { CONTACT: 'crm.contact.get', COMPANY: 'crm.company.get', LEAD: 'crm.lead.get' };

export function responsibleLookup(bitrix: Pick<BitrixClient, 'call'>): (entityType: string, entityId: number) => Promise<number | undefined> {
  return async (entityType, entityId) => {
    const method = GET_METHOD[entityType];
    if (method === undefined) return undefined;
    const entity = await bitrix.call<{ ASSIGNED_BY_ID?: unknown } | undefined>(method, { id: entityId });
    const id = Number(entity?.ASSIGNED_BY_ID);
    return Number.isInteger(id) && id > 0 ? id : undefined;
  };
}
