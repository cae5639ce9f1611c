import { Writable } from 'node:stream';
import { createLogger } from '../../src/obs/logger.js';
import { createMetrics } from '../../src/obs/metrics.js';
import { RecentErrors } from '../../src/status/recent-errors.js';
import { recordedQueueState } from '../ringback/support.js';
import { startRig, type Rig } from './rig.js';

/**
 * The rig of the live view's tests (and of its screenshots): the daemon with a status token, metrics, the recorded
 * queues on the simulated PBX, a long ring-back cooldown (a pause stays until released), listening on every address
 * (so a request to this machine's own non-loopback address is a non-loopback peer), and its real logger feeding the
 * recent errors. Every secret is distinctive, so a test can look for it anywhere.
 */

export const SECRETS = {
  amiSecret: 'amiSecret-Q1w2E3r4',
  statusToken: 'statusToken-Z9x8C7v6B5n4',
  applicationToken: 'appToken-P0o9I8u7Y6',
  webhookCode: 'whkCode4M3n2B1v0',
  lookupToken: 'lookupToken-K1j2H3g4F5d6',
} as const;

export const IFACE_201 = 'Local/201@agents/n';

export interface StatusRig extends Rig {
  /** http://127.0.0.1:<port> */
  base: string;
  /** Everything the daemon logged (JSON lines), for the secret checks. */
  log(): string;
}

export async function startStatusRig(opts: { cooldownSec?: number } = {}): Promise<StatusRig> {
  let log = '';
  const recentErrors = new RecentErrors({ clock: Date.now });
  const destination = new Writable({ write: (chunk: Buffer, _e, done) => void ((log += chunk.toString()), done()) });
  const logger = createLogger({ level: 'info', format: 'json', destination, onNotice: (n) => recentErrors.add(n) });
  const rig = await startRig({
    portal: { webhookCode: SECRETS.webhookCode },
    pbx: { secret: SECRETS.amiSecret, queueState: recordedQueueState() },
    config: () => ({
      asterisk: { ami: { secret: SECRETS.amiSecret } },
      bitrix: { applicationToken: SECRETS.applicationToken, timeoutMs: 2000 },
      // The page, its event stream and the test's own reads all come from 127.0.0.1: one address's budget.
      http: { host: '0.0.0.0', statusToken: SECRETS.statusToken, perAddressPerMinute: 100_000 },
      outbox: { maxRetryDelayMs: 300 },
      ringBack: { cooldownSec: opts.cooldownSec ?? 600 },
      crm: { lookupToken: SECRETS.lookupToken },
    }),
    deps: { logger, recentErrors, metrics: createMetrics({ processMetrics: false }) },
  });
  return Object.assign(rig, { log: () => log });
}
