import type { LeadsConfig } from '../config/crm.js';
import type { RegisterCall } from '../core/effects.js';
import type { CrmMatch } from './lookup.js';
import type { CrmNumber } from './number.js';

/**
 * The CRM part of telephony.externalcall.register (docs/reference/bitrix24-telephony.md#register-parameters),
 * decided purely from the call and the config:
 * CRM_CREATE per direction with a per-line override, CRM_SOURCE, and the binding to the entity a lookup already
 * found during this call (the /route or /callerid the dialplan asked), so the card shows the entity the call was
 * routed by. A bound call never creates a lead: Bitrix24 creates one only when the call has no entity.
 *
 * One lead per call: this daemon registers a call once (the outbox marks it), and a retried register carries the
 * same EXTERNAL_CALL_ID, which Bitrix24 answers with the first CALL_ID and no new lead (test/crm/leads.test.ts).
 */

export interface LeadCall {
  direction: 'inbound' | 'outbound';
  /** LINE_NUMBER (the DID), '' when none. */
  lineNumber: string;
  phoneNumber: string;
}

export interface CrmRegisterParams {
  CRM_CREATE: 0 | 1;
  CRM_SOURCE: string;
  CRM_ENTITY_TYPE?: string;
  CRM_ENTITY_ID?: number;
}

/** `defaults`: what to do when crm.leads says nothing for the direction (bitrix.crmCreate). */
export function crmParamsFor(
  call: LeadCall,
  config: LeadsConfig,
  defaults: { inbound: boolean; outbound: boolean } = { inbound: true, outbound: false },
): CrmRegisterParams {
  // Anonymous callers (the core sends '0'): a lead titled "0" helps nobody.
  const known = call.phoneNumber !== '' && call.phoneNumber !== '0';
  const byLine = call.lineNumber === '' ? undefined : config.byLine[call.lineNumber];
  const create = byLine ?? config[call.direction] ?? defaults[call.direction];
  return { CRM_CREATE: known && create ? 1 : 0, CRM_SOURCE: config.source };
}

export interface RegisterCrmDeps {
  leads: LeadsConfig;
  toNumber: (raw: string) => CrmNumber | undefined;
  /** The lookup cache only: registration never waits for the portal. */
  cachedMatch: (n: CrmNumber) => CrmMatch | undefined;
}

/**
 * Parameters to merge into registerParams(e). The core's own crmCreate (bitrix.crmCreate, false for anonymous
 * callers) is the default when crm.leads names no direction.
 */
export function registerCrmParams(e: RegisterCall, deps: RegisterCrmDeps): CrmRegisterParams {
  const direction = e.callType === 1 ? 'outbound' : 'inbound';
  const params = crmParamsFor({ direction, lineNumber: e.lineNumber, phoneNumber: e.phoneNumber }, deps.leads, { inbound: e.crmCreate, outbound: e.crmCreate });
  if (!deps.leads.bind) return params;
  const n = deps.toNumber(e.phoneNumber);
  const match = n === undefined ? undefined : deps.cachedMatch(n);
  return match ? { ...params, CRM_ENTITY_TYPE: match.entityType, CRM_ENTITY_ID: match.entityId } : params;
}
