import type { LogNotice } from '../obs/logger.js';
import { BoundedMap } from '../util/bounded-map.js';
import type { StatusError } from './types.js';

/**
 * The last distinct warnings and errors the daemon logged, with their count and first and last time: what the live
 * view shows instead of journald. Fed from the logger after its redaction (createLogger's onNotice), so it holds
 * only what the log holds. Bounded: a new distinct message pushes the oldest one out.
 */
export class RecentErrors {
  private readonly byMessage: BoundedMap<string, StatusError>;

  constructor(opts: { max?: number; clock: () => number }) {
    this.byMessage = new BoundedMap({ max: opts.max ?? 20, clock: opts.clock });
  }

  add(n: LogNotice): void {
    const message = n.detail ? `${n.msg}: ${n.detail}` : n.msg;
    const key = `${n.level}\u0000${message}`;
    const seen = this.byMessage.get(key);
    // Re-set, so the map's order is by last occurrence and the bound drops what was seen least recently.
    this.byMessage.set(key, seen ? { ...seen, count: seen.count + 1, lastAt: n.time } : { level: n.level, message, count: 1, firstAt: n.time, lastAt: n.time });
  }

  /** Latest first. */
  list(): StatusError[] {
    return [...this.byMessage.entries()].map(([, e]) => ({ ...e })).reverse();
  }
}
