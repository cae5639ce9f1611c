import type { BitrixClient } from '../bitrix/client.js';
import type { CrmConfig } from '../config/crm.js';
import type { NumberRules } from '../config/http.js';
import type { Effect, RegisterCall } from '../core/effects.js';
import type { HttpLogger, Route } from '../http/types.js';
import { Blacklist } from './blacklist.js';
import { ExtensionResolver } from './extensions.js';
import { MissedCallFollowUp } from './follow-up.js';
import { registerCrmParams } from './leads.js';
import { CrmLookup } from './lookup.js';
import { crmNumber, type CrmNumber } from './number.js';
import { RegisterGate } from './register-gate.js';
import { createCrmRoutes, lookupAuthorizer } from './routes.js';
import { CallTimeline } from './timeline.js';
import type { CallSummary } from './types.js';

/**
 * Builds the CRM features from the config and hands the daemon the few hooks it calls: HTTP routes, an effect
 * filter (blocked callers), extra register params, an effect listener (follow-ups, timeline) and an outbox
 * delivery listener (register answers). Everything that talks to the portal goes through the shared client
 * (and its rate limiter) or the outbox; nothing here holds a socket or a timer of its own.
 */

export interface CrmSetupConfig {
  crm: CrmConfig;
  /** clickToCall.number: one normalization for every number the bridge reads. */
  numberRules: NumberRules;
  defaultUserId: number;
  /** users.extensions */
  userExtensions: () => Readonly<Record<string, number>>;
  /** http.allow */
  httpAllow: readonly string[];
}

export interface CrmParts {
  client: Pick<BitrixClient, 'call'>;
  /** outbox.enqueue(key, 'call', method, params, false) */
  enqueue: (key: string, method: string, params: Record<string, unknown>) => void;
  /** directory.userIdFor */
  userIdFor?: (ext: string) => number | undefined;
  /** directory.extensionFor */
  extensionFor?: (userId: number) => string | undefined;
  logger: HttpLogger;
  clock?: () => number;
  utcOffsetMinutes?: number;
}

export interface Crm {
  routes: Record<string, Route>;
  lookup: CrmLookup;
  blacklist: Blacklist;
  gate: RegisterGate;
  followUp: MissedCallFollowUp;
  timeline: CallTimeline;
  /** False: the runtime must not perform this effect (a blocked caller's Bitrix24 commands). */
  admit(effect: Effect): boolean;
  /** Merged over registerParams(e): CRM_CREATE, CRM_SOURCE, CRM_ENTITY_TYPE/ID. */
  registerParams(e: RegisterCall): Record<string, unknown>;
  /** Every effect, after the core made it: follow-ups and timeline on callEnded. */
  onEffect(effect: Effect): void;
  /** The outbox delivered a command: register answers carry the bound entity and a created lead. */
  onDelivered(entry: { key: string; kind: string; params: Record<string, unknown> }, result: unknown): void;
}

export function setupCrm(cfg: CrmSetupConfig, parts: CrmParts): Crm {
  const { crm } = cfg;
  const clock = parts.clock ?? Date.now;
  const log = parts.logger;
  const toNumber = (raw: string): CrmNumber | undefined => crmNumber(raw, cfg.numberRules);
  const blacklist = new Blacklist(crm.blacklist, cfg.numberRules);
  const lookup = new CrmLookup({
    client: parts.client,
    clock,
    deadlineMs: crm.lookupDeadlineMs,
    ttlMs: crm.cacheTtlSec * 1000,
    negativeTtlMs: crm.negativeCacheTtlSec * 1000,
    blockedField: crm.blacklist.crmField,
    logger: log,
  });
  const extensions = new ExtensionResolver({
    overrides: cfg.userExtensions,
    ...(parts.userIdFor ? { userIdFor: parts.userIdFor } : {}),
    ...(parts.extensionFor ? { extensionFor: parts.extensionFor } : {}),
  });
  // Config list always; the CRM entity's field when a lookup during this call already read it (never waits).
  const isBlocked = (n: CrmNumber): boolean => blacklist.isBlocked(n) || lookup.cachedMatch(n)?.blocked === true;
  const gate = new RegisterGate({
    enabled: crm.blacklist.skipRegistration,
    toNumber,
    isBlocked,
    onBlocked: (linkedid) => log.info({ linkedid }, 'call from a blacklisted number: not registered in Bitrix24'),
  });
  const followUp = new MissedCallFollowUp({
    config: crm.missedCall,
    defaultUserId: cfg.defaultUserId,
    lookup,
    toNumber,
    isBlocked,
    enqueue: parts.enqueue,
    clock,
    ...(parts.utcOffsetMinutes !== undefined ? { utcOffsetMinutes: parts.utcOffsetMinutes } : {}),
  });
  const timeline = new CallTimeline({ enabled: crm.timeline.enabled, enqueue: parts.enqueue, clock });
  if (!crm.lookupToken && cfg.httpAllow.length === 0) log.info({}, 'crm: /route and /callerid answer this host only (set crm.lookupToken or http.allow for others)');
  const routes = createCrmRoutes({
    authorize: lookupAuthorizer({ token: crm.lookupToken, allow: cfg.httpAllow }),
    lookup,
    blacklist,
    extensions,
    rules: cfg.numberRules,
    config: crm,
    logger: log,
  });

  return {
    routes,
    lookup,
    blacklist,
    gate,
    followUp,
    timeline,
    admit: (effect) => gate.admit(effect),
    registerParams: (e) => ({ ...registerCrmParams(e, { leads: crm.leads, toNumber, cachedMatch: (n) => lookup.cachedMatch(n) }) }),
    onEffect(effect) {
      if (effect.type !== 'callEnded') return;
      const summary: CallSummary = effect;
      followUp.onCallEnded(summary).then(
        (outcome) => {
          if ('sent' in outcome) log.info({ linkedid: effect.linkedid, action: outcome.sent, userId: outcome.userId }, 'missed call: follow-up queued');
        },
        (err: unknown) => log.error({ err, linkedid: effect.linkedid }, 'missed call follow-up failed'),
      );
      timeline.onCallEnded(summary);
    },
    onDelivered(entry, result) {
      if (entry.kind !== 'register') return;
      timeline.onRegistered(entry.key, result);
      // "Not in the CRM" is no longer true once the call created a lead: ask again next time.
      const created = (result as { CRM_CREATED_LEAD?: unknown } | undefined)?.CRM_CREATED_LEAD;
      const n = typeof entry.params['PHONE_NUMBER'] === 'string' ? toNumber(entry.params['PHONE_NUMBER']) : undefined;
      if (created !== null && created !== undefined && n) lookup.forget(n);
    },
  };
}
