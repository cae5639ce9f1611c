import type { AmiClient } from '../ami/client.js';
import type { CallTracker } from '../core/tracker.js';
import type { Logger } from '../obs/logger.js';
import { liveChannels } from './resync.js';
import { ResyncRetry } from './resync-retry.js';
import type { Runtime } from './runtime.js';

/**
 * After every AMI (re)connect, and at start after a restart: ask Asterisk which channels are live and let the core
 * repair what it missed while blind. "Blind since" is when the connection dropped, or when the previous run last
 * heard an event (a restart), so calls that ended in the gap end at the best known time.
 */

export interface AmiResyncOptions {
  ami: AmiClient;
  runtime: Pick<Runtime, 'handleInput'>;
  tracker: Pick<CallTracker, 'channelIds' | 'activeCalls'>;
  clock: () => number;
  logger: Logger;
  actionTimeoutMs: number;
  reconnect: { initialDelayMs: number; maxDelayMs: number };
  /** The previous run's last event time (from the snapshot): blind since then. */
  blindSince: number | undefined;
}

export function startAmiResync(opts: AmiResyncOptions): { stop(): void } {
  let blindSince = opts.blindSince;
  const resync = new ResyncRetry({
    attempt: async () => {
      const at = blindSince ?? opts.clock();
      const known = opts.tracker.channelIds();
      const live = await liveChannels(opts.ami, opts.actionTimeoutMs);
      blindSince = undefined;
      opts.runtime.handleInput({ kind: 'resync', at, live, known });
      opts.logger.info({ live: live.length, activeCalls: opts.tracker.activeCalls }, 'resynced calls with Asterisk');
    },
    isConnected: () => opts.ami.isConnected,
    logger: opts.logger,
    initialDelayMs: opts.reconnect.initialDelayMs,
    maxDelayMs: opts.reconnect.maxDelayMs,
  });
  const onDown = (): void => {
    blindSince ??= opts.clock();
    resync.stop();
  };
  const onUp = (): void => resync.start();
  opts.ami.on('disconnected', onDown);
  opts.ami.on('connected', onUp);
  return {
    stop() {
      opts.ami.off('disconnected', onDown);
      opts.ami.off('connected', onUp);
      resync.stop();
    },
  };
}
