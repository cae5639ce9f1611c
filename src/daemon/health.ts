import type { AmiClient } from '../ami/client.js';
import type { Outbox } from '../bitrix/outbox.js';
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

export function bridgeHealth(parts: { ami: Pick<AmiClient, 'isConnected'>; portal: PortalHealth; outbox: Pick<Outbox, 'depth' | 'parkedEntries'>; problems: Problems; more?: () => HealthProblem[] }): BridgeHealth {
  const problems: HealthProblem[] = [...parts.problems.list(), ...(parts.more?.() ?? [])];
  // The portal's own state first (why it is down), then what the daemon knows is wrong (what to do).
  const texts = [parts.portal.problem, ...problems.map((p) => p.text)].filter((t): t is string => t !== undefined);
  return {
    ami: parts.ami.isConnected,
    portal: parts.portal.reachable,
    outboxDepth: parts.outbox.depth,
    parked: parts.outbox.parkedEntries().length,
    ...(texts.length > 0 ? { lastError: texts.join('; ') } : {}),
    problems: problems.map((p) => ({ kind: p.kind, text: p.text, degrading: p.degrading })),
  };
}
