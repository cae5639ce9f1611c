import { createBitrixClient, type BitrixClient } from '../../src/bitrix/client.js';
import { LeakyBucket } from '../../src/bitrix/limiter.js';
import { MemoryOutboxStore } from '../../src/bitrix/outbox-entry.js';
import { Outbox } from '../../src/bitrix/outbox.js';
import { crmSchema, type CrmConfig } from '../../src/config/crm.js';
import { numberRulesSchema, type NumberRules } from '../../src/config/http.js';
import { setupCrm, type Crm } from '../../src/crm/setup.js';
import type { HttpRequest } from '../../src/http/types.js';
import { startBitrixEmulator, type BitrixEmulator, type CrmSeed, type SeedUser } from '../../src/sim/bitrix-emulator.js';
import { silentLogger } from '../support/logger.js';

/**
 * The CRM features against the strict Bitrix24 emulator, seeded with users, contacts, companies and leads.
 * Numbers are Russian (+7) so the 8-prefixed national spelling is exercised too.
 */

export const USERS: SeedUser[] = [
  { ID: 1, NAME: 'Admin', LAST_NAME: 'Default', ADMIN: true },
  { ID: 11, NAME: 'Anna', LAST_NAME: 'Support', UF_PHONE_INNER: '101', TIMEMAN_STATUS: 'OPENED' },
  { ID: 12, NAME: 'Boris', LAST_NAME: 'Sales', UF_PHONE_INNER: '102', TIMEMAN_STATUS: 'CLOSED' },
  // No UF_PHONE_INNER: the extension comes from users.extensions (5 digits do not fit UF_PHONE_INNER).
  { ID: 13, NAME: 'Clara', LAST_NAME: 'Key Accounts', TIMEMAN_STATUS: 'OPENED' },
  { ID: 14, NAME: 'Dan', LAST_NAME: 'Backoffice' },
];

export const NUMBERS = {
  olga: '+79990001111',
  pavel: '+79990002222',
  blockedContact: '+79990003333',
  lead: '+79990004444',
  acme: '+74950001000',
  orphan: '+79990005555',
  unknown: '+79995550000',
  blacklisted: '+79997770000',
};

export const CRM: CrmSeed = {
  contacts: [
    { ID: 501, NAME: 'Olga', LAST_NAME: 'Client', PHONE: [{ VALUE: '+7 999 000-11-11', VALUE_TYPE: 'MOBILE' }], ASSIGNED_BY_ID: 11 },
    { ID: 502, NAME: 'Pavel "The Boss",', LAST_NAME: 'Jr.\r\nSet(X=1)', PHONE: [NUMBERS.pavel], ASSIGNED_BY_ID: 13 },
    { ID: 503, NAME: 'Spam', LAST_NAME: 'Caller', PHONE: [NUMBERS.blockedContact], ASSIGNED_BY_ID: 11 },
    // A contact whose responsible user does not exist in the portal.
    { ID: 504, NAME: 'Orphan', LAST_NAME: 'Contact', PHONE: [NUMBERS.orphan], ASSIGNED_BY_ID: 99 },
    // The caller of the recorded caller_abandon trace.
    { ID: 505, NAME: 'Trace', LAST_NAME: 'Caller', PHONE: ['5553001'], ASSIGNED_BY_ID: 11 },
  ],
  companies: [
    { ID: 701, TITLE: 'Acme LLC', PHONE: [NUMBERS.acme], ASSIGNED_BY_ID: 12 },
    // The caller of the recorded blind_transfer trace.
    { ID: 702, TITLE: 'Transfer Corp', PHONE: ['5555001'], ASSIGNED_BY_ID: 12 },
  ],
  leads: [
    { ID: 901, TITLE: 'Website request', PHONE: [NUMBERS.lead], ASSIGNED_BY_ID: 14 },
    // Same number as the company: Bitrix24 binds the company, and so do we.
    { ID: 902, TITLE: 'Acme again', PHONE: [NUMBERS.acme], ASSIGNED_BY_ID: 11 },
  ],
};

export const USER_EXTENSIONS: Record<string, number> = { '20013': 13 };
export const RULES: NumberRules = numberRulesSchema.parse({ countryCode: '7', trunkPrefix: '8' });
export const TOKEN = 'crm-lookup-token-0123456789abcdef';

export interface CrmHarness {
  portal: BitrixEmulator;
  client: BitrixClient;
  crm: Crm;
  outbox: Outbox;
  clock: { now: number; advance(ms: number): void; read: () => number };
  /** REST calls the portal received for a method (lowercase), hung ones included. */
  calls(method: string): number;
  close(): Promise<void>;
}

export interface HarnessOptions {
  crm?: unknown;
  allow?: string[];
  /** Wraps the REST client (e.g. to add a user field the emulator does not store). */
  wrapClient?: (c: BitrixClient) => BitrixClient;
  /** Real time by default; tests that move time themselves pass true. */
  manualClock?: boolean;
}

export async function startCrmHarness(o: HarnessOptions = {}): Promise<CrmHarness> {
  const portal = await startBitrixEmulator({ users: USERS, crm: CRM, rateLimit: false });
  const manual = { now: Date.parse('2026-03-10T09:00:00Z') };
  const read = o.manualClock ? () => manual.now : Date.now;
  const clock = { get now() { return read(); }, advance: (ms: number) => void (manual.now += ms), read };
  // Its own bucket, as in the daemon: lookups take slots of the same limiter as the outbox.
  const raw = createBitrixClient({ webhookUrl: portal.webhookUrl, limiter: new LeakyBucket({ perSecond: 50, burst: 100 }), timeoutMs: 5000 });
  const client = o.wrapClient ? o.wrapClient(raw) : raw;
  const outbox = new Outbox({ client, store: new MemoryOutboxStore(), clock: Date.now, limiterDelay: () => 0, logger: silentLogger, lingerMs: 1, initialRetryDelayMs: 50 });
  const config: CrmConfig = crmSchema.parse(o.crm ?? {});
  const crm = setupCrm(
    { crm: config, numberRules: RULES, defaultUserId: 1, userExtensions: () => USER_EXTENSIONS, httpAllow: o.allow ?? [] },
    { client, enqueue: (key, method, params) => void outbox.enqueue(key, 'call', method, params, false), logger: silentLogger, clock: read, utcOffsetMinutes: 180 },
  );
  return {
    portal,
    client,
    crm,
    outbox,
    clock,
    calls: (method) => portal.requests.filter((r) => r.restMethod === method).length,
    async close() {
      outbox.stop();
      await portal.close();
    },
  };
}

export function get(path: string, query: Record<string, string | string[]> = {}, o: { headers?: Record<string, string>; remoteAddress?: string } = {}): HttpRequest {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) for (const one of Array.isArray(v) ? v : [v]) q.append(k, one);
  return { method: 'GET', path, query: q, headers: o.headers ?? {}, remoteAddress: o.remoteAddress ?? '127.0.0.1', body: Buffer.alloc(0) };
}

export const SEARCH = 'telephony.externalcall.searchcrmentities';
