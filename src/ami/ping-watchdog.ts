import type { AmiActionError } from './client.js';

/**
 * Pings Asterisk at an interval while a session is up. A hung Asterisk keeps TCP up; only a missing Pong tells,
 * so a Ping that times out reports the session silent. Any other failure (the session going away) ends the watch.
 */
export class PingWatchdog {
  private timer: NodeJS.Timeout | undefined;
  /** Bumped by stop() so a Ping still in flight for a session that is gone changes nothing. */
  private round = 0;

  /** `intervalMs` 0 or less: no Pings at all. */
  constructor(
    private readonly intervalMs: number,
    private readonly timeoutMs: number,
  ) {}

  /** Watch a new session: `ping(timeoutMs)` sends one Ping; `onSilent` is called when one got no answer in time. */
  start(ping: (timeoutMs: number) => Promise<unknown>, onSilent: () => void): void {
    this.stop();
    this.schedule(this.round, ping, onSilent);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.round++;
  }

  private schedule(round: number, ping: (timeoutMs: number) => Promise<unknown>, onSilent: () => void): void {
    if (this.intervalMs <= 0 || round !== this.round) return;
    this.timer = setTimeout(() => {
      if (round !== this.round) return;
      ping(this.timeoutMs).then(
        () => this.schedule(round, ping, onSilent),
        (err: AmiActionError) => {
          if (err.code === 'TIMEOUT' && round === this.round) onSilent();
        },
      );
    }, this.intervalMs);
  }
}
