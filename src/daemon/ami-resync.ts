import type { AmiClient } from '../ami/client.js';
import type { CallTracker } from '../core/tracker.js';
import type { Logger } from '../obs/logger.js';
import { liveChannels, queueLastCalls } from './resync.js';
import { ResyncRetry } from './resync-retry.js';
import type { Runtime } from './runtime.js';

/**
 * After every AMI (re)connect, and at start after a restart: ask Asterisk which channels are live and let the core
 * repair what it missed while blind. "Blind since" is when the connection dropped, or when the previous run last
 * heard an event (a restart); the resync's own time is when the list came. Between the two lie the answers and
 * hangups the core did not see (core/resync.ts says how it estimates them).
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
      const known = opts.tracker.channelIds();
      const live = await liveChannels(opts.ami, opts.actionTimeoutMs);
      // Only evidence for the end of a call that ended meanwhile: without it, the resync's own time stands.
      const lastCalls = await queueLastCalls(opts.ami, opts.actionTimeoutMs).catch((err: unknown) => {
        opts.logger.warn({ err }, 'QueueStatus failed during the resync; calls that ended meanwhile end at the resync');
        return [];
      });
      const at = opts.clock();
      const since = blindSince === undefined ? {} : { blindSince: Math.min(blindSince, at) };
      blindSince = undefined;
      opts.runtime.handleInput({ kind: 'resync', at, ...since, live, known, lastCalls });
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
