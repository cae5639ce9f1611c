import type { BitrixClient } from '../bitrix/client.js';
import { registerParams, type CommandOptions } from '../bitrix/commands.js';
import type { RegisterCall } from '../core/effects.js';
import type { CallbackRegistration } from './service.js';

/**
 * The two Bitrix24 calls a callback needs before anything rings: register (TYPE 4) and, for target 'responsible',
 * the CRM entity's ASSIGNED_BY_ID. They go straight through the client, not the outbox: the HTTP handler needs the
 * CALL_ID to go on, and the client never retries (register is not idempotent), so a failure is reported, not repeated.
 */

/**
 * The CRM features' hooks, as for calls the outbox registers: extra register params (CRM_CREATE per line, CRM_SOURCE,
 * binding) and the delivered hook (timeline comment, lead cache) — src/crm/setup.ts.
 */
export interface RegisterHooks {
  registerParams(e: RegisterCall): Record<string, unknown>;
  onDelivered(entry: { key: string; kind: string; params: Record<string, unknown> }, result: unknown): void;
}

export function callbackRegistrar(
  bitrix: Pick<BitrixClient, 'call'>,
  commands: CommandOptions,
  crmCreate: boolean,
  hooks?: RegisterHooks,
): (r: CallbackRegistration) => Promise<string> {
  return async (r) => {
    const effect: RegisterCall = { type: 'register', linkedid: r.linkedid, userId: r.userId, phoneNumber: r.phoneNumber, callType: 4, lineNumber: r.lineNumber, startedAt: r.startedAt, crmCreate };
    const params = {
      ...registerParams(effect, commands),
      ...hooks?.registerParams(effect),
      // The form's CRM entity wins: Bitrix24 binds the call to it without searching by number (§5.1).
      ...(r.crmEntityType !== undefined && r.crmEntityId !== undefined ? { CRM_ENTITY_TYPE: r.crmEntityType, CRM_ENTITY_ID: r.crmEntityId } : {}),
    };
    const result = await bitrix.call<{ CALL_ID?: unknown } | undefined>('telephony.externalcall.register', params);
    if (typeof result?.CALL_ID !== 'string') throw new Error('telephony.externalcall.register returned no CALL_ID');
    hooks?.onDelivered({ key: r.linkedid, kind: 'register', params }, result);
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
