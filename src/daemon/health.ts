import type { AmiClient } from '../ami/client.js';
import type { Outbox } from '../bitrix/outbox.js';
import type { ParkedEntry } from '../bitrix/outbox-entry.js';
import type { HealthProblem } from '../http/health.js';
import type { PortalHealth } from './portal-health.js';
import type { Problems } from './problems.js';

/** The daemon's health, for /healthz, systemd's STATUS and `check`: both ends, the outbox, and what is wrong. */
export interface BridgeHealth {
  ami: boolean;
  portal: boolean;
  outboxDepth: number;
  parked: number;
  lastError?: string;
  problems: HealthProblem[];
}

export const WRONG_AUTH_TYPE_ADVICE =
  'this portal refuses webhooks for telephony: set bitrix.auth.mode: app (see the admin guide), restart, and the parked commands go out';

/** The documented refusal of webhooks for register/finish (Bitrix24 REST docs, telephony pages, 2026-03). */
export function refusedWebhook(p: ParkedEntry): boolean {
  return p.error.startsWith('WRONG_AUTH_TYPE');
}

export function bridgeHealth(parts: { ami: Pick<AmiClient, 'isConnected'>; portal: PortalHealth; outbox: Pick<Outbox, 'depth' | 'parkedEntries'>; problems: Problems; more?: () => HealthProblem[] }): BridgeHealth {
  const parked = parts.outbox.parkedEntries();
  const problems: HealthProblem[] = [...parts.problems.list(), ...parkedProblems(parked), ...(parts.more?.() ?? [])];
  // The portal's own state first (why it is down), then what the daemon knows is wrong (what to do).
  const texts = [parts.portal.problem, ...problems.map((p) => p.text)].filter((t): t is string => t !== undefined);
  return {
    ami: parts.ami.isConnected,
    portal: parts.portal.reachable,
    outboxDepth: parts.outbox.depth,
    parked: parked.length,
    ...(texts.length > 0 ? { lastError: texts.join('; ') } : {}),
    problems: problems.map((p) => ({ kind: p.kind, text: p.text, degrading: p.degrading })),
  };
}

/**
 * Read off what the outbox holds, so a retry that empties it (or a restart that finds it full) shows at once: the
 * latest parked command as a warning, and the advice to switch to app mode while any was refused as a webhook.
 */
function parkedProblems(parked: readonly ParkedEntry[]): HealthProblem[] {
  const latest = parked.reduce<ParkedEntry | undefined>((a, p) => (a === undefined || p.parkedAt >= a.parkedAt ? p : a), undefined);
  if (latest === undefined) return [];
  const out: HealthProblem[] = [{ kind: 'parked', text: `parked ${latest.method}: ${latest.error}`, degrading: false }];
  if (parked.some(refusedWebhook)) out.push({ kind: 'authType', text: WRONG_AUTH_TYPE_ADVICE, degrading: true });
  return out;
}
