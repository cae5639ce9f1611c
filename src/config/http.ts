import { z } from 'zod';
import { isSafeDialToken } from '../ami/actions.js';
import { parseAllowEntry } from '../http/auth.js';

/**
 * Configuration of the HTTP endpoint and of click-to-call / callback. `httpServerKeys` is merged into the existing
 * `http:` section of src/config/schema.ts; `clickToCallSchema` is a new top-level `clickToCall:` section.
 * Everything a dial string or an AMI header will contain is checked here, at start, not at the first call.
 */

const DIAL_TOKEN_HINT = 'may contain only letters, digits and + * # _ . / @ -';
const context = z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, 'must be a dialplan context name (letters, digits, _ and -)');
const exten = z.string().refine((s) => s.length > 0 && s.length <= 80 && isSafeDialToken(s), `must be an extension that ${DIAL_TOKEN_HINT}`);

/** A path the daemon serves, e.g. /bitrix/events. */
const routePath = z.string().regex(/^\/[A-Za-z0-9._~/-]{0,200}$/, 'must be an absolute path');

export const httpServerKeys = {
  /** Peer addresses or CIDR prefixes allowed to call the endpoints; empty = anyone who has the token. */
  allow: z.array(z.string().refine((s) => parseAllowEntry(s) !== undefined, 'must be an IP address or a CIDR prefix')).default([]),
  /** Where Bitrix24 posts ONEXTERNALCALLSTART / ONEXTERNALCALLBACKSTART. */
  eventsPath: routePath.default('/bitrix/events'),
  /** App mode: the local application's install callback (ONAPPINSTALL) and the OAuth redirect of `auth`. */
  installPath: routePath.default('/bitrix/install'),
  maxBodyBytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(64 * 1024),
  headersTimeoutMs: z.number().int().min(100).default(10_000),
  requestTimeoutMs: z.number().int().min(100).default(15_000),
  perAddressPerMinute: z.number().int().min(1).default(120),
};

/** Refinement for the merged http section: the install path and the events path are two routes, never one. */
export function installPathApart(v: { eventsPath: string; installPath: string }): boolean {
  return v.eventsPath !== v.installPath;
}

/** Refinement for the merged http section: node refuses a headers timeout above the request timeout. */
export function headersWithinRequestTimeout(v: { headersTimeoutMs: number; requestTimeoutMs: number }): boolean {
  return v.headersTimeoutMs <= v.requestTimeoutMs;
}

/** A template whose placeholders are all in `allowed`, and that gives a safe value for a sample substitution. */
function template(allowed: string[], safe: (s: string) => boolean, hint: string) {
  return z.string().refine((t) => {
    const names = [...t.matchAll(/\{([^}]*)\}/g)].map((m) => m[1] ?? '');
    return names.every((n) => allowed.includes(n)) && safe(t.replace(/\{[^}]*\}/g, '1'));
  }, `placeholders: ${allowed.map((a) => `{${a}}`).join(' ')}; ${hint}`);
}

export const numberRulesSchema = z
  .strictObject({
  /** Removed before validation: spaces and the punctuation people type around numbers. */
  stripChars: z.string().max(32).default(' ()-.\u00a0'),
  /** Country code without +, e.g. '7'; needed for trunkPrefix. */
  countryCode: z.string().regex(/^\d{1,3}$/).optional(),
  /** National trunk prefix rewritten to +countryCode, e.g. '8' (Russia) or '0' (UK, Germany). */
  trunkPrefix: z.string().regex(/^\d{1,3}$/).optional(),
  /** What a leading + becomes in the dialled number: '' (digits only), '00', or '+' to keep it. */
  plusAs: z.string().regex(/^(\+|\d{0,4})$/).default(''),
  /** Prepended to every dialled number, e.g. '9' for an outside line. */
  outboundPrefix: z.string().regex(/^\d{0,4}$/).default(''),
  minDigits: z.number().int().min(1).max(32).default(3),
  /** E.164 allows at most 15 digits. */
  maxDigits: z.number().int().min(1).max(32).default(15),
})
  .refine((r) => r.trunkPrefix === undefined || r.countryCode !== undefined, { message: 'trunkPrefix needs countryCode', path: ['countryCode'] })
  .refine((r) => r.minDigits <= r.maxDigits, { message: 'must not exceed maxDigits', path: ['minDigits'] });

export const callbackSchema = z
  .strictObject({
    /** Who is rung first: a queue (through a dialplan extension) or the CRM entity's responsible user. */
    target: z.enum(['queue', 'responsible']).default('queue'),
    /** Extension that puts the caller into the queue, e.g. '600' with `exten => 600,1,Queue(support)`. */
    queueExten: exten.optional(),
    /** Context where queueExten lives; the first leg is Local/{queueExten}@{queueContext}. */
    queueContext: context.default('from-internal'),
    /** Bitrix24 user the callback is registered to when a queue takes it; default bitrix.defaultUserId. */
    userId: z.number().int().positive().optional(),
    /** Context that dials the customer for callbacks; default clickToCall.context. */
    context: context.optional(),
  })
  .refine((c) => c.target !== 'queue' || c.queueExten !== undefined, { message: 'target "queue" needs queueExten', path: ['queueExten'] });

export const clickToCallSchema = z.strictObject({
  /** 'ari' originates through asterisk.ari (must be configured); 'ami' through the AMI connection. */
  via: z.enum(['ami', 'ari']).default('ami'),
  /** The agent's channel, rung first: PJSIP/{ext}, or Local/{ext}@from-internal to honour follow-me and DND. */
  agentChannel: template(['ext'], isSafeDialToken, DIAL_TOKEN_HINT).default('PJSIP/{ext}'),
  /**
   * Context that dials the customer once the agent answers (Exten = the customer number). It must be listed in
   * asterisk.contexts.outbound: the core recognises the customer leg by a Dial from an outbound context. Hence the
   * default `outbound` (listed by default) rather than `from-internal`, whose Dial runs in FreePBX's macros; in the
   * daemon's config the default is the first of asterisk.contexts.outbound (see configSchema).
   */
  context: context.default('outbound'),
  /** What the agent's phone shows, e.g. 'Bitrix24 <{number}>'. */
  callerId: template(['number', 'dial', 'ext'], (s) => /^[^\0-\x1f\x7f,]{1,80}$/.test(s), 'no control characters or commas').default('{number}'),
  /** How long the agent's phone rings (Originate Timeout). */
  timeoutMs: z.number().int().min(1000).max(300_000).default(30_000),
  /** The same CALL_ID (or callback number) within this window does not ring twice. */
  dedupWindowSec: z.number().int().min(0).max(3600).default(30),
  number: numberRulesSchema.prefault({}),
  callback: callbackSchema.optional(),
});

export type HttpServerConfig = z.infer<z.ZodObject<typeof httpServerKeys>>;
export type NumberRules = z.infer<typeof numberRulesSchema>;
export type CallbackConfig = z.infer<typeof callbackSchema>;
export type ClickToCallConfig = z.infer<typeof clickToCallSchema>;

/**
 * Checks across sections, for the configSchema's superRefine: ARI must exist to originate through it, and the
 * customer-leg contexts must be outbound contexts, or the core never sees the customer answer (wrong status).
 */
export function clickToCallProblems(
  c: Omit<ClickToCallConfig, 'context'> & { context?: string | undefined },
  asterisk: { ari?: unknown; contexts: { outbound: string[] } },
): Array<{ path: string[]; message: string }> {
  const problems: Array<{ path: string[]; message: string }> = [];
  if (c.via === 'ari' && !asterisk.ari) problems.push({ path: ['clickToCall', 'via'], message: '"ari" needs an asterisk.ari section' });
  const contexts: Array<[string[], string | undefined]> = [
    [['clickToCall', 'context'], c.context],
    [['clickToCall', 'callback', 'context'], c.callback?.context],
  ];
  for (const [path, cx] of contexts) {
    if (cx !== undefined && !asterisk.contexts.outbound.includes(cx)) {
      problems.push({ path, message: `"${cx}" must also be listed in asterisk.contexts.outbound (the core finds the customer leg by it)` });
    }
  }
  return problems;
}
