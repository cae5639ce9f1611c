import { backoffDelay } from '../util/backoff.js';

/**
 * Runs the resync after every (re)connect and, when it fails (CoreShowChannels timed out, a list cut short),
 * tries again with backoff for as long as the connection stays up: waiting for the next reconnect could leave
 * calls that ended while the daemon was blind unfinished for hours. A disconnect cancels it (the next connect
 * starts over); a newer start supersedes an attempt still running.
 */

export interface ResyncRetryLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface ResyncRetryOptions {
  /** One resync: query Asterisk and feed the result to the core. Rejects when it could not. */
  attempt: () => Promise<void>;
  isConnected: () => boolean;
  logger: ResyncRetryLogger;
  initialDelayMs?: number;
  maxDelayMs?: number;
  timers?: { setTimeout: typeof setTimeout; clearTimeout: typeof clearTimeout };
}

export class ResyncRetry {
  private generation = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly timers: { setTimeout: typeof setTimeout; clearTimeout: typeof clearTimeout };

  constructor(private readonly opts: ResyncRetryOptions) {
    this.timers = opts.timers ?? { setTimeout, clearTimeout };
  }

  /** On connect: resync now, and again with backoff until it succeeds or the connection drops. */
  start(): void {
    this.cancel();
    void this.run(++this.generation, 1);
  }

  /** On disconnect or shutdown. */
  stop(): void {
    this.cancel();
    this.generation++;
  }

  private cancel(): void {
    if (this.timer) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async run(gen: number, tries: number): Promise<void> {
    try {
      await this.opts.attempt();
      if (tries > 1 && gen === this.generation) this.opts.logger.info({ tries }, 'resync with Asterisk succeeded after retries');
    } catch (err) {
      if (gen !== this.generation || !this.opts.isConnected()) return;
      const delay = backoffDelay(tries, { initialMs: this.opts.initialDelayMs ?? 1000, maxMs: this.opts.maxDelayMs ?? 30_000 });
      this.opts.logger.warn({ err, tries, retryInMs: delay }, 'resync with Asterisk failed; retrying while connected');
      this.timer = this.timers.setTimeout(() => {
        this.timer = undefined;
        if (gen === this.generation && this.opts.isConnected()) void this.run(gen, tries + 1);
      }, delay);
      this.timer.unref?.();
    }
  }
}
