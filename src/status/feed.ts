import type { StreamSink } from '../http/types.js';
import type { StatusSnapshot } from './types.js';

/**
 * GET /status/events: server-sent events that push the snapshot when the state changes. The state is read on a
 * short tick only while a page is open, and sent only when it differs from the last one sent (times are absolute,
 * so an idle bridge sends nothing but a keep-alive comment): bursts of changes within a tick coalesce into one
 * event. The number of open pages is bounded; a page beyond it is refused and its script retries later.
 */

export interface FeedTimers {
  every(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export interface StatusFeedOptions {
  snapshot: () => StatusSnapshot;
  maxClients?: number;
  /** How often the state is compared while a page is open. */
  tickMs?: number;
  /** A comment line this often, so proxies and browsers keep an idle stream open. */
  keepAliveMs?: number;
  timers?: FeedTimers;
}

const nodeTimers: FeedTimers = {
  every: (fn, ms) => setInterval(fn, ms).unref(),
  clear: (h) => clearInterval(h as NodeJS.Timeout),
};

export class StatusFeed {
  private readonly clients = new Set<StreamSink>();
  private readonly timers: FeedTimers;
  private tick: unknown;
  private keepAlive: unknown;
  private lastKey = '';
  private lastEvent = '';
  readonly maxClients: number;

  constructor(private readonly opts: StatusFeedOptions) {
    this.timers = opts.timers ?? nodeTimers;
    this.maxClients = opts.maxClients ?? 16;
  }

  get size(): number {
    return this.clients.size;
  }

  get full(): boolean {
    return this.clients.size >= this.maxClients;
  }

  /** A new page: it gets the current state at once. False (and the stream ended) when the bound is reached. */
  attach(sink: StreamSink): boolean {
    if (this.full) {
      sink.end();
      return false;
    }
    this.clients.add(sink);
    sink.onClose(() => this.detach(sink));
    if (this.clients.size === 1) this.start();
    // Changed since the last event: every page gets it (the new one too); else the new page gets the last one.
    if (!this.check()) sink.write(this.lastEvent);
    return true;
  }

  /** Compares the state with the last one sent and sends it to every page when it changed (true then). */
  check(): boolean {
    if (this.clients.size === 0) return false;
    const s = this.opts.snapshot();
    const key = JSON.stringify({ ...s, generatedAt: 0 });
    if (key === this.lastKey) return false;
    this.lastKey = key;
    this.lastEvent = `event: status\ndata: ${JSON.stringify(s)}\n\n`;
    for (const c of this.clients) c.write(this.lastEvent);
    return true;
  }

  stop(): void {
    for (const c of [...this.clients]) c.end();
    this.clients.clear();
    this.halt();
  }

  private detach(sink: StreamSink): void {
    this.clients.delete(sink);
    if (this.clients.size === 0) this.halt();
  }

  private start(): void {
    this.tick = this.timers.every(() => this.check(), this.opts.tickMs ?? 500);
    this.keepAlive = this.timers.every(() => {
      for (const c of this.clients) c.write(': keep-alive\n\n');
    }, this.opts.keepAliveMs ?? 15_000);
  }

  private halt(): void {
    if (this.tick !== undefined) this.timers.clear(this.tick);
    if (this.keepAlive !== undefined) this.timers.clear(this.keepAlive);
    this.tick = this.keepAlive = undefined;
    // The next page starts from a fresh read.
    this.lastKey = '';
  }
}
