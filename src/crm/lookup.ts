import type { BitrixClient } from '../bitrix/client.js';
import { BoundedMap } from '../util/bounded-map.js';
import type { CrmNumber } from './number.js';

/**
 * "Who is this number in the CRM?", asked by the dialplan while a caller waits. So the answer has a deadline
 * (lookupDeadlineMs): on time it is the portal's answer, late it is `unknown` and the call goes on. The request is
 * not abandoned: it finishes in the background and fills the cache, so the next lookup for that number (the
 * /callerid after the /route, the register, the follow-up) is instant. Identical lookups in flight share one
 * request; CRM answers and "not in the CRM" are cached (the latter shorter); after a failed request the portal is
 * left alone for coolDownMs, so a down portal costs no request (and no slot of the shared rate limiter) per call.
 */

export type CrmEntityType = 'CONTACT' | 'COMPANY' | 'LEAD';

export interface CrmMatch {
  entityType: CrmEntityType;
  entityId: number;
  /** Contact's name, company's or lead's title, as searchCrmEntities gives it. */
  name: string;
  responsibleId?: number;
  /** The responsible user's UF_PHONE_INNER (ASSIGNED_BY.USER_PHONE_INNER). */
  responsibleInner?: string;
  /** ASSIGNED_BY.TIMEMAN_STATUS: OPENED, CLOSED, PAUSED, EXPIRED, UNAVAILABLE, NOT_INSTALLED. */
  timemanStatus?: string;
  /** The entity's blacklist field (crm.blacklist.crmField) is set. */
  blocked: boolean;
}

export type LookupResult =
  | { kind: 'found'; match: CrmMatch }
  | { kind: 'none' }
  | { kind: 'unknown'; reason: 'deadline' | 'failed' | 'cooldown' | 'busy' };

type Known = Extract<LookupResult, { kind: 'found' | 'none' }>;

export interface CrmLookupOptions {
  client: Pick<BitrixClient, 'call'>;
  clock: () => number;
  deadlineMs: number;
  ttlMs: number;
  negativeTtlMs: number;
  /** crm.blacklist.crmField: read with crm.contact.get / crm.company.get / crm.lead.get for the matched entity. */
  blockedField?: string | undefined;
  coolDownMs?: number;
  /** Distinct numbers being looked up at once; beyond it lookups answer `unknown` (a hung portal must not pile up). */
  maxInFlight?: number;
  maxEntries?: number;
  timers?: { setTimeout: typeof setTimeout; clearTimeout: typeof clearTimeout };
  logger?: { warn(obj: object, msg: string): void; debug(obj: object, msg: string): void };
}

export interface LookupStats {
  requests: number;
  hits: number;
  deadlines: number;
  failures: number;
}

const ORDER: CrmEntityType[] = ['CONTACT', 'COMPANY', 'LEAD'];
const GET_METHOD: Readonly<Record<CrmEntityType, string>> = { CONTACT: 'crm.contact.get', COMPANY: 'crm.company.get', LEAD: 'crm.lead.get' };
const TRUTHY = new Set(['1', 'y', 'yes', 'true']);

export class CrmLookup {
  readonly stats: LookupStats = { requests: 0, hits: 0, deadlines: 0, failures: 0 };
  /** Number -> the portal's answer until its TTL; bounded (expired answers go first, then the oldest). */
  private readonly cache: BoundedMap<string, Known>;
  private readonly inFlight = new Map<string, Promise<LookupResult>>();
  private coolUntil = 0;
  private readonly timers: { setTimeout: typeof setTimeout; clearTimeout: typeof clearTimeout };

  constructor(private readonly opts: CrmLookupOptions) {
    this.timers = opts.timers ?? { setTimeout, clearTimeout };
    this.cache = new BoundedMap({ max: opts.maxEntries ?? 10_000, clock: opts.clock });
  }

  /** The cached answer, without asking the portal. */
  peek(n: CrmNumber): Known | undefined {
    return this.cache.get(n.key);
  }

  /** The cached CRM entity, if any: what registration binds the call to. */
  cachedMatch(n: CrmNumber): CrmMatch | undefined {
    const r = this.peek(n);
    return r?.kind === 'found' ? r.match : undefined;
  }

  /** Answers within deadlineMs, whatever the portal does. Never rejects. */
  async find(n: CrmNumber, deadlineMs = this.opts.deadlineMs): Promise<LookupResult> {
    const cached = this.peek(n);
    if (cached) {
      this.stats.hits++;
      return cached;
    }
    const pending = this.start(n);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<LookupResult>((resolve) => {
      timer = this.timers.setTimeout(() => {
        this.stats.deadlines++;
        resolve({ kind: 'unknown', reason: 'deadline' });
      }, deadlineMs);
    });
    try {
      return await Promise.race([pending, deadline]);
    } finally {
      this.timers.clearTimeout(timer);
    }
  }

  /** Waits for the portal itself (bounded by the client's timeout): for follow-ups, which nobody waits on. */
  async resolve(n: CrmNumber): Promise<LookupResult> {
    const cached = this.peek(n);
    if (cached) {
      this.stats.hits++;
      return cached;
    }
    return this.start(n);
  }

  /** Drops a cached answer, e.g. "not in the CRM" once the call created a lead. */
  forget(n: CrmNumber): void {
    this.cache.delete(n.key);
  }

  private start(n: CrmNumber): Promise<LookupResult> {
    const running = this.inFlight.get(n.key);
    if (running) return running;
    if (this.opts.clock() < this.coolUntil) return Promise.resolve({ kind: 'unknown', reason: 'cooldown' });
    if (this.inFlight.size >= (this.opts.maxInFlight ?? 32)) return Promise.resolve({ kind: 'unknown', reason: 'busy' });
    this.stats.requests++;
    const p = this.fetch(n).then(
      (result) => {
        this.remember(n.key, result);
        return result;
      },
      (err: unknown): LookupResult => {
        this.stats.failures++;
        this.coolUntil = this.opts.clock() + (this.opts.coolDownMs ?? 5000);
        this.opts.logger?.warn({ err }, 'CRM lookup failed; lookups answer "unknown" for a while');
        return { kind: 'unknown', reason: 'failed' };
      },
    );
    const tracked = p.finally(() => this.inFlight.delete(n.key));
    this.inFlight.set(n.key, tracked);
    return tracked;
  }

  private async fetch(n: CrmNumber): Promise<Known> {
    const raw = await this.opts.client.call<unknown>('telephony.externalCall.searchCrmEntities', { PHONE_NUMBER: n.number });
    const match = primaryMatch(raw);
    if (!match) return { kind: 'none' };
    const field = this.opts.blockedField;
    if (field !== undefined) {
      // One more request per number, cached with the answer; the same client, so the same rate limiter.
      const entity = await this.opts.client.call<Record<string, unknown> | undefined>(GET_METHOD[match.entityType], { id: match.entityId });
      match.blocked = isSet(entity?.[field]);
    }
    return { kind: 'found', match };
  }

  private remember(key: string, result: Known): void {
    const ttl = result.kind === 'found' ? this.opts.ttlMs : this.opts.negativeTtlMs;
    if (ttl <= 0) this.cache.delete(key);
    else this.cache.set(key, result, this.opts.clock() + ttl);
  }
}

/**
 * The entity Bitrix24 itself binds a call to (contact, then company, then lead:
 * docs/reference/bitrix24-telephony.md#crm-binding), so the name, the manager and the binding all speak of the
 * same entity. searchCrmEntities lists contacts, leads, companies.
 */
export function primaryMatch(raw: unknown): CrmMatch | undefined {
  if (!Array.isArray(raw)) return undefined;
  const entries = raw.filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null);
  for (const type of ORDER) {
    const e = entries.find((x) => String(x['CRM_ENTITY_TYPE']).toUpperCase() === type && positive(x['CRM_ENTITY_ID']) !== undefined);
    if (e) return toMatch(type, e);
  }
  return undefined;
}

function toMatch(type: CrmEntityType, e: Record<string, unknown>): CrmMatch {
  const by = typeof e['ASSIGNED_BY'] === 'object' && e['ASSIGNED_BY'] !== null ? (e['ASSIGNED_BY'] as Record<string, unknown>) : {};
  // ASSIGNED_BY.ID is null when the responsible is no portal user any more: then nobody is responsible.
  const responsibleId = 'ID' in by ? positive(by['ID']) : positive(e['ASSIGNED_BY_ID']);
  const inner = typeof by['USER_PHONE_INNER'] === 'string' || typeof by['USER_PHONE_INNER'] === 'number' ? String(by['USER_PHONE_INNER']).replace(/\D/g, '') : '';
  return {
    entityType: type,
    entityId: positive(e['CRM_ENTITY_ID']) ?? 0,
    name: typeof e['NAME'] === 'string' ? e['NAME'] : '',
    ...(responsibleId !== undefined ? { responsibleId } : {}),
    ...(inner !== '' ? { responsibleInner: inner } : {}),
    ...(typeof by['TIMEMAN_STATUS'] === 'string' ? { timemanStatus: by['TIMEMAN_STATUS'] } : {}),
    blocked: false,
  };
}

function positive(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,10}$/.test(v) ? Number(v) : NaN;
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** Bitrix24 user fields come back as true, 1, '1', 'Y'; an empty list or '0' is "not set". */
function isSet(v: unknown): boolean {
  if (v === true || v === 1) return true;
  return typeof v === 'string' && TRUTHY.has(v.trim().toLowerCase());
}
