/**
 * telephony.externalCall.searchCrmEntities (docs/reference/bitrix24-telephony.md#search-crm-entities):
 * CONTACT, then LEAD, then COMPANY entries, each with the responsible user's ASSIGNED_BY block.
 */
import type { MethodHandler } from '../dispatch.js';
import { phpString } from '../php.js';
import type { CrmRow, CrmType, EmulatorState } from '../state.js';

const ORDER: CrmType[] = ['CONTACT', 'LEAD', 'COMPANY'];

export const searchCrmEntitiesMethod: MethodHandler = (params, ctx) => {
  const phone = phpString(params.PHONE_NUMBER);
  if (phone === '') throw ctx.fail('PHONE_NUMBER is empty');
  const found = ctx.state.findCrmByPhone(phone);
  const result = ORDER.flatMap((type) => found[type].map((row) => entry(ctx.state, row)));
  return { result };
};

function entry(state: EmulatorState, row: CrmRow): Record<string, unknown> {
  const user = state.users.get(row.assignedById);
  return {
    CRM_ENTITY_TYPE: row.type,
    CRM_ENTITY_ID: row.id,
    ASSIGNED_BY_ID: row.assignedById,
    NAME: displayName(row),
    // An unknown responsible leaves every field null, as the PHP lookup does.
    ASSIGNED_BY: {
      ID: user ? String(user.id) : null,
      TIMEMAN_STATUS: user?.timemanStatus ?? null,
      USER_PHONE_INNER: user?.ufPhoneInner ?? null,
      WORK_PHONE: user?.workPhone ?? null,
      PERSONAL_PHONE: user?.personalPhone ?? null,
      PERSONAL_MOBILE: user?.personalMobile ?? null,
    },
  };
}

export function displayName(row: CrmRow): string {
  const fullName = [row.name, row.lastName].filter(Boolean).join(' ');
  if (row.type === 'CONTACT') return fullName || row.title;
  return row.title || fullName;
}
