import { z } from 'zod';
import { recordingsConfigProblems, recordingsSchema } from './recordings.js';
import { ringBackSchema } from './ringback.js';
import { crmSchema } from './crm.js';
import { transcriptsConfigProblems, transcriptsSchema } from './transcripts.js';
import { clickToCallProblems, clickToCallSchema, headersWithinRequestTimeout, httpServerKeys, installPathApart } from './http.js';
import { parseAllowEntry } from '../http/auth.js';
import { statusKeys } from './status.js';

/**
 * The whole configuration, validated in one pass so every error is reported at once with its key path.
 * Only the contract keys are required; everything else has a default an admin would pick for a call center.
 * Strict objects: an unknown key is an error (a typo must never silently disable a feature).
 */

const nonEmpty = z.string().min(1, 'must not be empty');
const port = z.number().int().min(1).max(65535);
const digits = z.string().regex(/^\d{1,32}$/, 'must be digits');

function isValidRegexWithOneGroup(source: string): boolean {
  try {
    // An alternation after the pattern matches the empty string, so exec() reveals the group count.
    const m = new RegExp(`${source}|`).exec('');
    return m !== null && m.length === 2;
  } catch {
    return false;
  }
}

const amiSchema = z.strictObject({
  host: nonEmpty.default('127.0.0.1'),
  port: port.default(5038),
  username: nonEmpty,
  secret: nonEmpty,
  /** Keepalive Ping period; a missing Pong within pingTimeoutMs drops and reconnects. */
  pingIntervalMs: z.number().int().min(1000).default(15_000),
  pingTimeoutMs: z.number().int().min(500).default(5_000),
  actionTimeoutMs: z.number().int().min(100).default(10_000),
  /** Install an AMI Filter on login so Asterisk sends only the events we use. */
  eventFilter: z.boolean().default(true),
  /**
   * At start, how long to wait for the first AMI login before telling systemd READY anyway (STATUS says AMI is
   * down): a bridge must start while its PBX boots or is away, inside the unit's TimeoutStartSec (60 s).
   */
  startupWaitMs: z.number().int().min(0).max(50_000).default(20_000),
  reconnect: z
    .strictObject({
      initialDelayMs: z.number().int().min(50).default(500),
      maxDelayMs: z.number().int().min(100).default(30_000),
    })
    .prefault({}),
});

const ariSchema = z.strictObject({
  url: z.url(),
  username: nonEmpty,
  password: nonEmpty,
});

const contextsSchema = z.strictObject({
  inbound: z.array(nonEmpty).default(['from-trunk', 'from-pstn', 'incoming']),
  outbound: z.array(nonEmpty).default(['outbound', 'from-internal-outbound', 'outbound-allroutes']),
  internal: z.array(nonEmpty).default(['from-internal', 'agents']),
}).superRefine((c, ctx) => {
  // A context in two lists would make the direction depend on the classifier's order: refuse it.
  const seen = new Map<string, string>();
  for (const dir of ['inbound', 'outbound', 'internal'] as const) {
    for (const name of c[dir]) {
      const first = seen.get(name);
      if (first !== undefined && first !== dir) ctx.addIssue({ code: 'custom', message: `"${name}" is listed under both ${first} and ${dir}` });
      else seen.set(name, dir);
    }
  }
});

const asteriskSchema = z.strictObject({
  ami: amiSchema,
  ari: ariSchema.optional(),
  contexts: contextsSchema.prefault({}),
  extensionPattern: z
    .string()
    .default('^(?:PJSIP|SIP|IAX2|Local)/(\\d+)')
    .refine(isValidRegexWithOneGroup, 'must be a valid regular expression with exactly one capture group'),
});

const appSchema = z.strictObject({
  /** The local application's client_id (`local.xxxx`), shown when it was created in Bitrix24. */
  clientId: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'must be the application\'s client_id (e.g. local.65f0...)'),
  clientSecret: nonEmpty,
  /** https://example.bitrix24.ru: the portal the application is installed on (installs from others are refused). */
  portalUrl: z.url().refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol) && new URL(u).pathname.replace(/\/+$/, '') === '', {
    message: 'must be the portal address only, like https://example.bitrix24.ru',
  }),
  /** The OAuth server; when set it wins over the install's server_endpoint (Russian portals use their regional one). */
  oauthUrl: z.url().optional(),
  /** offline: Bitrix24 keeps click-to-call events for the bridge to fetch (no inbound connection); online: it POSTs them to handlerUrl. */
  events: z.enum(['offline', 'online']).default('offline'),
  /** How often offline events are fetched: each fetch is a request from the shared 2/s budget. */
  eventsPollMs: z.number().int().min(200).max(60_000).default(2_000),
  /** online: the public URL that reaches this bridge's http.eventsPath (Bitrix24's servers POST there). */
  handlerUrl: z.url().optional(),
});

const bitrixSchema = z.strictObject({
  /** webhook: an inbound webhook (webhookUrl); app: a local server-side application with OAuth (bitrix.app). */
  auth: z.strictObject({ mode: z.enum(['webhook', 'app']).default('webhook') }).prefault({}),
  /** Required in webhook mode; unused in app mode. */
  webhookUrl: z
    .url()
    .refine((u) => URL.canParse(u) && /\/rest\/\d+\/[^/]+\/?$/.test(new URL(u).pathname), {
      message: 'must look like https://PORTAL/rest/<user id>/<webhook code>/',
    })
    .optional(),
  app: appSchema.optional(),
  applicationToken: nonEmpty.optional(),
  defaultUserId: z.number().int().positive(),
  rateLimit: z
    .strictObject({
      perSecond: z.number().positive().default(2),
      burst: z.number().int().positive().default(50),
    })
    .prefault({}),
  /** Per-request timeout; a hung portal is a retryable failure, never a stuck daemon. */
  timeoutMs: z.number().int().min(100).default(15_000),
  /** Create a lead for unknown numbers, per direction (register's CRM_CREATE). */
  crmCreate: z
    .strictObject({
      inbound: z.boolean().default(true),
      outbound: z.boolean().default(false),
    })
    .prefault({}),
  /** LINE_NUMBER sent when the dialplan gives no DID (empty: Bitrix24's default line for this webhook). */
  defaultLineNumber: z.string().max(50).default(''),
  /** finish's ADD_TO_CHAT: post the call to the user's Bitrix24 chat (the source defaults it off, the docs on). */
  addToChat: z.boolean().default(true),
  /** Show cards to ringing agents at all (turn off to log calls only). */
  showCards: z.boolean().default(true),
}).superRefine((b, ctx) => {
  // Here, not on the whole config: reported even when another section has errors too.
  for (const p of authProblems(b)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
});

const usersSchema = z.strictObject({
  extensions: z.record(digits, z.number().int().positive()).default({}),
  /** How often the extension map is reloaded from user.get (UF_PHONE_INNER). 0 disables the portal lookup. */
  refreshIntervalSec: z.number().int().min(0).default(900),
});

const httpSchema = z
  .strictObject({
    host: nonEmpty.default('127.0.0.1'),
    /** 0 picks a free port (tests). */
    port: z.number().int().min(0).max(65535).default(8090),
    ...httpServerKeys,
    /** Who may scrape GET /metrics (it has no token). */
    metricsAllow: z.array(z.string().refine((s) => parseAllowEntry(s) !== undefined, 'must be an IP address or a CIDR prefix')).default(['127.0.0.0/8', '::1']),
    ...statusKeys,
  })
  .refine(headersWithinRequestTimeout, { message: 'must not exceed requestTimeoutMs', path: ['headersTimeoutMs'] })
  .refine(installPathApart, { message: 'must differ from eventsPath', path: ['installPath'] });

const stateSchema = z.strictObject({
  dir: nonEmpty.default('/var/lib/asterisk-b24-bridge'),
});

const logSchema = z.strictObject({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  /** auto: pretty when stdout is a terminal, JSON otherwise (journald). */
  format: z.enum(['auto', 'json', 'pretty']).default('auto'),
});

const outboxSchema = z.strictObject({
  /** Requests in flight at once; commands of one call are always sent in order. */
  concurrency: z.number().int().min(1).max(16).default(4),
  /** Recordings being prepared and attached at once (they wait for files, transcode, upload). */
  attachConcurrency: z.number().int().min(1).max(16).default(2),
  /** Bound on waiting commands: past 80 % new cards are dropped, at the bound everything new is. */
  maxEntries: z.number().int().min(100).default(100_000),
  maxRetryDelayMs: z.number().int().min(100).default(30_000),
});

export const configSchema = z.strictObject({
  asterisk: asteriskSchema,
  bitrix: bitrixSchema,
  users: usersSchema.prefault({}),
  http: httpSchema.prefault({}),
  state: stateSchema.prefault({}),
  log: logSchema.prefault({}),
  outbox: outboxSchema.prefault({}),
  recordings: recordingsSchema.prefault({}),
  ringBack: ringBackSchema.prefault({}),
  // No default context here: the transform below takes the config's own first outbound context.
  clickToCall: clickToCallSchema.extend({ context: clickToCallSchema.shape.context.unwrap().optional() }).prefault({}),
  crm: crmSchema.prefault({}),
  transcripts: transcriptsSchema.prefault({}),
}).superRefine((c, ctx) => {
  for (const p of clickToCallProblems(c.clickToCall, c.asterisk)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
  for (const message of recordingsConfigProblems(c.recordings, c.asterisk.ari)) {
    ctx.addIssue({ code: 'custom', path: ['recordings', 'source', 'type'], message });
  }
  for (const message of transcriptsConfigProblems(c.transcripts, c.recordings.enabled)) ctx.addIssue({ code: 'custom', path: ['transcripts', 'enabled'], message });
}).transform((c) => ({
  ...c,
  // A config that never names clickToCall dials customers through its own first outbound context.
  clickToCall: { ...c.clickToCall, context: c.clickToCall.context ?? c.asterisk.contexts.outbound[0] ?? 'outbound' },
}));

export type Config = z.infer<typeof configSchema>;
export type AppConfig = z.infer<typeof appSchema>;
interface BitrixKeys {
  auth: { mode: 'webhook' | 'app' };
  webhookUrl?: string | undefined;
  app?: AppConfig | undefined;
}

/** Each mode needs its own keys: a webhook URL, or the application's (and a handler URL for online events). */
function authProblems(b: BitrixKeys): Array<{ path: string[]; message: string }> {
  if (b.auth.mode === 'webhook') return b.webhookUrl === undefined ? [{ path: ['webhookUrl'], message: 'is required when bitrix.auth.mode is webhook' }] : [];
  if (b.app === undefined) return [{ path: ['app'], message: 'is required when bitrix.auth.mode is app (clientId, clientSecret, portalUrl)' }];
  if (b.app.events === 'online' && b.app.handlerUrl === undefined) return [{ path: ['app', 'handlerUrl'], message: 'is required when bitrix.app.events is online' }];
  return [];
}
