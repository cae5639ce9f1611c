import { z } from 'zod';

/**
 * The `crm:` section (issue 7): leads, routing to the responsible manager, caller name, missed-call follow-up,
 * blacklist and call-center notes on the timeline. Every key has a default, so an absent or empty section works:
 * the lookups answer (to authenticated callers), nothing is created in the portal that was not created before.
 * Numbers are validated here, at start, so a typo never becomes a silent non-match at the first call.
 */

const PLACEHOLDERS = ['number', 'name', 'queue'];
const phoneDigits = z.string().regex(/^\+?\d{1,20}$/, 'must be digits with an optional leading +');
const phonePrefix = z.string().regex(/^\+?\d{1,20}$/, 'must be digits with an optional leading +');

const leadsSchema = z.strictObject({
  /** CRM_CREATE for inbound calls; unset: bitrix.crmCreate.inbound decides, as before. */
  inbound: z.boolean().optional(),
  /** CRM_CREATE for outbound calls; unset: bitrix.crmCreate.outbound. */
  outbound: z.boolean().optional(),
  /** Per LINE_NUMBER (the DID the call came in on): wins over the direction. */
  byLine: z.record(z.string().min(1).max(50), z.boolean()).default({}),
  /** CRM_SOURCE: the lead's SOURCE_ID (crm.status.list, ENTITY_ID=SOURCE). */
  source: z.string().regex(/^[A-Za-z0-9_.|-]{1,50}$/, 'must be a SOURCE_ID such as CALL').default('CALL'),
  /** Bind the call to the entity a lookup already found during the call (CRM_ENTITY_TYPE/ID). */
  bind: z.boolean().default(true),
});

const routeSchema = z.strictObject({
  /** What /route answers when there is no responsible manager to ring (also on a slow or failing portal). */
  fallback: z.string().regex(/^[a-z][a-z0-9_-]{0,19}$/, 'must be a short lowercase word').default('none'),
  /** How long the dialplan rings the manager: sent as X-Ring-Seconds and B24_RING by the AGI script. */
  ringSeconds: z.number().int().min(5).max(300).default(20),
  /** Route only to managers whose working day is open in Bitrix24 time tracking (TIMEMAN_STATUS OPENED). */
  onlyIfTimemanOpened: z.boolean().default(false),
});

const missedCallSchema = z.strictObject({
  enabled: z.boolean().default(false),
  action: z.enum(['task', 'notify']).default('task'),
  /** Inbound finish statuses that count as missed: nobody answered (304), busy (486), rejected (603). */
  statuses: z.array(z.enum(['304', '486', '603', '480', '503'])).min(1).default(['304', '486', '603']),
  /** One follow-up per number within this window; the next missed call after it gets a new one. */
  dedupWindowSec: z.number().int().min(0).max(7 * 86_400).default(3600),
  /** Task deadline, hours after the call; 0 = no deadline. */
  deadlineHours: z.number().int().min(0).max(24 * 90).default(24),
  /** Task title / first line of the notification. */
  titleTemplate: z
    .string()
    .min(1)
    .max(200)
    .refine((t) => [...t.matchAll(/\{([^}]*)\}/g)].every((m) => PLACEHOLDERS.includes(m[1] ?? '')), {
      message: `placeholders: ${PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}`,
    })
    .default('Missed call from {name}'),
  /** Who gets follow-ups for numbers without a responsible manager; default bitrix.defaultUserId. */
  userId: z.number().int().positive().optional(),
});

const blacklistSchema = z.strictObject({
  /** Exact numbers, compared after the click-to-call number rules (8 999… equals +7 999… with trunkPrefix 8). */
  numbers: z.array(phoneDigits).default([]),
  /** Number prefixes, e.g. '+7809' (premium-rate). */
  prefixes: z.array(phonePrefix).default([]),
  /** A contact user field meaning "blocked" (e.g. UF_CRM_BLOCKED): read with crm.contact.get during the lookup. */
  crmField: z.string().regex(/^UF_CRM_[A-Z0-9_]{1,50}$/, 'must be a contact user field such as UF_CRM_BLOCKED').optional(),
  /** Calls from blocked numbers are not registered in Bitrix24. */
  skipRegistration: z.boolean().default(true),
});

export const crmSchema = z.strictObject({
  leads: leadsSchema.prefault({}),
  /** A lookup (/route, /callerid) answers within this even when the portal is slow or down. */
  lookupDeadlineMs: z.number().int().min(50).max(5000).default(800),
  /** How long a CRM answer is reused. */
  cacheTtlSec: z.number().int().min(0).max(86_400).default(300),
  /** How long "not in the CRM" is reused (short: the call itself may create a lead). */
  negativeCacheTtlSec: z.number().int().min(0).max(86_400).default(60),
  /** Token for /route and /callerid (`token` query parameter or X-Token header); without it, http.allow only. */
  lookupToken: z.string().min(16, 'must be at least 16 characters').max(200).optional(),
  route: routeSchema.prefault({}),
  callerName: z.strictObject({ maxLength: z.number().int().min(1).max(80).default(40) }).prefault({}),
  missedCall: missedCallSchema.prefault({}),
  blacklist: blacklistSchema.prefault({}),
  /** crm.timeline.comment.add with queue, waiting time, members rung, transfer path. */
  timeline: z.strictObject({ enabled: z.boolean().default(false) }).prefault({}),
});

export type CrmConfig = z.infer<typeof crmSchema>;
export type LeadsConfig = CrmConfig['leads'];
export type MissedCallConfig = CrmConfig['missedCall'];
export type BlacklistConfig = CrmConfig['blacklist'];
