import type { BitrixClient } from '../bitrix/client.js';
import { BitrixError } from '../bitrix/errors.js';
import { backoffDelay } from '../util/backoff.js';
import type { EventOutcome } from '../clicktocall/telephony-events.js';

/**
 * Click-to-call with no inbound connection: Bitrix24 keeps the application's offline events, and this fetches
 * them (event.offline.get), starts each one, then clears what it handled (event.offline.clear), so a crash between
 * the two replays an event instead of losing it (Bitrix24 REST docs, api-reference/events/offline-events.md).
 * The process id that marks the rows being handled, and each row's ID, are written to the state store before the
 * row is started: after a crash the marked rows are fetched again by that process id, and a row already started is
 * only cleared, never rung twice. Reading without clearing needs the plan feature `rest_offline_extended`; without it events are read and
 * cleared at once, and a crash at the wrong moment can lose a click (said in /healthz and check).
 *
 * Polling shares the portal's rate limit with calls and must not starve them: a poll is skipped while commands
 * wait for the limiter, and it costs one request per interval (default 2 s: a quarter of the 2 req/s budget, see
 * the README's benchmark of click-to-Originate latency).
 */

export interface OfflineEvent {
  id: string;
  name: string;
  data: Readonly<Record<string, unknown>>;
}

/** Where the poller keeps what must survive a restart: its process id and the rows it already started. */
export interface OfflineEventsState {
  load(): { processId?: string; handled: Array<[string, number]> } | undefined;
  save(state: { processId?: string; handled: Array<[string, number]> }): void;
}

export interface OfflineEventsOptions {
  client: Pick<BitrixClient, 'call'>;
  state: OfflineEventsState;
  handle: (event: OfflineEvent) => Promise<EventOutcome>;
  pollMs: number;
  /** True while Bitrix24 commands wait for the shared rate limiter: calls go first. */
  portalBusy: () => boolean;
  clock: () => number;
  logger: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  /** The plan lacks rest_offline_extended (or it could not be read): events are read and cleared at once. */
  onMode?: (mode: 'confirmed' | 'read-and-clear') => void;
}

/** How long a handled row ID is remembered: a replay comes at the next start, within hours at most. */
const HANDLED_TTL_MS = 24 * 3600 * 1000;
const HANDLED_MAX = 2_000;
const FETCH_LIMIT = 50;
/** Polls between two looks for rows marked by a read whose answer never came (the first poll looks too). */
const ORPHAN_CHECK_EVERY = 30;

export class OfflineEventPoller {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = true;
  private extended: boolean | undefined;
  private failures = 0;
  private polling: Promise<void> | undefined;
  readonly stats = { polls: 0, skipped: 0, events: 0, replays: 0 };

  constructor(private readonly opts: OfflineEventsOptions) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.polling;
  }

  /** One round now (tests, and the demo's "poll now"); resolves when its events were started and cleared. */
  pollNow(): Promise<void> {
    this.polling ??= this.poll().finally(() => (this.polling = undefined));
    return this.polling;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      void this.pollNow().then(() => this.schedule(this.failures === 0 ? this.opts.pollMs : backoffDelay(this.failures, { initialMs: this.opts.pollMs, maxMs: 60_000, jitter: 0.2 })));
    }, ms);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    if (this.opts.portalBusy()) {
      this.stats.skipped++;
      return;
    }
    try {
      this.extended ??= await this.readFeature();
      this.stats.polls++;
      const saved = this.opts.state.load() ?? { handled: [] };
      const handled = new Map(saved.handled.filter(([, at]) => this.opts.clock() - at < HANDLED_TTL_MS));
      const save = (processId: string | undefined) => this.opts.state.save({ ...(processId ? { processId } : {}), handled: [...handled].slice(-HANDLED_MAX) });
      if (!this.extended) {
        // Read and cleared at once: nothing to replay, nothing to clear.
        const result = await this.opts.client.call<unknown>('event.offline.get', { clear: 1, limit: FETCH_LIMIT });
        for (const event of eventsOf(result)) await this.handleOnce(event, handled, () => save(undefined));
        return void (this.failures = 0);
      }
      // A process left marked by a run that stopped before clearing it: its rows are hidden from every other
      // read (marks never time out), so they are fetched by their process id, finished, and cleared first.
      // Otherwise a fresh read marks up to FETCH_LIMIT rows with a new process id.
      const processId = saved.processId ?? (this.stats.polls % ORPHAN_CHECK_EVERY === 1 ? await this.orphanProcess() : undefined);
      const result = await this.opts.client.call<{ process_id?: unknown }>('event.offline.get', processId ? { clear: 0, process_id: processId } : { clear: 0, limit: FETCH_LIMIT });
      const events = eventsOf(result);
      const marked = processId ?? (typeof result?.process_id === 'string' && result.process_id !== '' ? result.process_id : undefined);
      if (events.length > 0 && marked !== undefined) {
        // Before anything is started: a crash from here on comes back to this process at the next start.
        save(marked);
        for (const event of events) await this.handleOnce(event, handled, () => save(marked));
        await this.opts.client.call('event.offline.clear', { process_id: marked, id: events.map((e) => Number(e.id)) });
      }
      if (processId !== undefined || events.length > 0) save(undefined);
      this.failures = 0;
    } catch (err) {
      this.failures++;
      this.opts.logger.warn({ err, failures: this.failures }, 'could not fetch Bitrix24 offline events; retrying');
    }
  }

  /**
   * Rows marked by a read whose answer was lost (or by a run that died before it saved the process id): marks never
   * time out, so no fresh read returns them again. Only this bridge reads the application's queue, and polls never
   * overlap, so any marked row now is such an orphan; event.offline.list shows its PROCESS_ID.
   */
  private async orphanProcess(): Promise<string | undefined> {
    const rows = await this.opts.client.call<unknown>('event.offline.list', {});
    for (const row of Array.isArray(rows) ? rows : []) {
      const pid = (row as Record<string, unknown>)['PROCESS_ID'];
      if (typeof pid === 'string' && pid !== '') {
        this.opts.logger.warn({}, 'found offline events marked by a read that never completed; handling them now');
        return pid;
      }
    }
    return undefined;
  }

  /** Starts an event unless this row was started before (a replay); its ID is saved before the start. */
  private async handleOnce(event: OfflineEvent, handled: Map<string, number>, save: () => void): Promise<void> {
    if (handled.has(event.id)) {
      this.stats.replays++;
      return;
    }
    handled.set(event.id, this.opts.clock());
    save();
    this.stats.events++;
    await this.start1(event);
  }

  private async start1(event: OfflineEvent): Promise<void> {
    try {
      const outcome = await this.opts.handle(event);
      if (outcome.ok) this.opts.logger.info({ event: event.name, callId: outcome.callId, linkedid: outcome.linkedid }, 'offline event started a call');
      else this.opts.logger.warn({ event: event.name, code: outcome.code, reason: outcome.message }, 'offline event refused');
    } catch (err) {
      this.opts.logger.error({ err, event: event.name }, 'offline event failed');
    }
  }

  /** `feature.get` CODE=rest_offline_extended: whether rows can be read without clearing them. */
  private async readFeature(): Promise<boolean> {
    let extended = false;
    try {
      const r = await this.opts.client.call<unknown>('feature.get', { CODE: 'rest_offline_extended' });
      extended = featureEnabled(r);
    } catch (err) {
      // Only an answer that says "no such feature" means no; a network failure is tried again at the next poll.
      if (!(err instanceof BitrixError) || err.kind === 'retryable') throw err;
    }
    this.opts.onMode?.(extended ? 'confirmed' : 'read-and-clear');
    if (!extended) this.opts.logger.warn({}, 'this portal\'s plan lacks rest_offline_extended: offline events are read and cleared at once, and a crash at the wrong moment can lose a click');
    return extended;
  }
}

function eventsOf(result: unknown): OfflineEvent[] {
  const list = typeof result === 'object' && result !== null ? (result as { events?: unknown }).events : undefined;
  return (Array.isArray(list) ? list : []).map(asEvent).filter((e): e is OfflineEvent => e !== undefined);
}

function asEvent(raw: unknown): OfflineEvent | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  const id = r['ID'];
  const name = r['EVENT_NAME'];
  if ((typeof id !== 'string' && typeof id !== 'number') || typeof name !== 'string') return undefined;
  const data = typeof r['EVENT_DATA'] === 'object' && r['EVENT_DATA'] !== null ? (r['EVENT_DATA'] as Record<string, unknown>) : {};
  return { id: String(id), name, data };
}

/**
 * feature.get answers `{value: 'Y' | 'N'}`; an on-premise Bitrix24 without a feature check answers
 * `<language>_selfhosted`, and has no plan to restrict it (Bitrix24 REST docs, api-reference/common/system/feature-get.md).
 */
export function featureEnabled(r: unknown): boolean {
  const value = typeof r === 'object' && r !== null ? (r as Record<string, unknown>)['value'] : undefined;
  return value === 'Y' || (typeof value === 'string' && /^[a-z]{2}_selfhosted$/.test(value));
}
