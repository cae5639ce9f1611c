import type { BitrixClient } from '../bitrix/client.js';
import { backoffDelay } from '../util/backoff.js';
import type { ExtensionDirectory } from '../bitrix/user-directory.js';
import { kvGet, kvSet, type StateDb } from '../store/db.js';
import { BitrixError } from '../bitrix/errors.js';

/**
 * Keeps the extension -> Bitrix24 user map current: loaded from the portal (user.get, UF_PHONE_INNER) at start and
 * every refreshIntervalSec. The last good map is kept in the state store, so a daemon that starts while the portal
 * is down still attributes calls to the right agents; a first load that fails is retried soon, with backoff,
 * rather than at the next refresh.
 */

export interface UserMapLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface UserMapSyncOptions {
  directory: ExtensionDirectory;
  client: Pick<BitrixClient, 'call'>;
  db: StateDb | undefined;
  logger: UserMapLogger;
  clock: () => number;
  /** 0: the config's users.extensions only; the portal is never asked. */
  refreshIntervalSec: number;
  /** First delay before a failed first load is tried again (doubles up to a minute). */
  firstRetryMs?: number;
  /** The map changed (loaded, refreshed, restored): the core is told. */
  onChange: () => void;
}

const KEY = 'users.portalMap';

interface SavedMap {
  at: number;
  extensions: Record<string, number>;
}

export class UserMapSync {
  private loaded = false;
  /** A portal map restored from the state store: calls can be attributed before the first load of this run. */
  private restored = false;
  /** The first load failed for a reason retrying cannot fix (no `user` scope...): nothing waits for it. */
  private givenUp = false;
  private failures = 0;
  private refreshing: Promise<void> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private refreshTimer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly opts: UserMapSyncOptions) {}

  /** Restores the saved map, then loads the portal's (awaited once, so the first calls find it). */
  async start(): Promise<void> {
    if (this.opts.refreshIntervalSec === 0) return;
    const saved = this.opts.db ? kvGet<SavedMap>(this.opts.db, KEY) : undefined;
    if (saved) {
      this.restored = true;
      this.opts.directory.setPortalMap(new Map(Object.entries(saved.extensions)));
      this.opts.logger.info({ extensions: Object.keys(saved.extensions).length, savedAt: new Date(saved.at).toISOString() }, 'user map restored from the state store');
      this.opts.onChange();
    }
    await this.refresh();
    this.refreshTimer = setInterval(() => void this.refresh(), this.opts.refreshIntervalSec * 1000);
    this.refreshTimer.unref();
  }

  /** SIGHUP: the config's overrides changed; the portal's map is asked again (unless the portal is not used). */
  reload(overrides: Record<string, number>): void {
    this.opts.directory.setOverrides(overrides);
    this.opts.onChange();
    if (this.opts.refreshIntervalSec > 0) void this.refresh();
  }

  stop(): void {
    clearTimeout(this.retryTimer);
    clearInterval(this.refreshTimer);
  }

  /**
   * True while no portal map exists at all (never loaded, none saved) and one is expected: commands whose agent is
   * known only by extension then wait for it instead of leaving with the default user (src/bitrix/outbox.ts).
   */
  awaitingFirstMap(): boolean {
    return this.opts.refreshIntervalSec > 0 && !this.loaded && !this.restored && !this.givenUp;
  }

  /** The portal answered a request: if the first map is still missing, ask for it now rather than at the backoff. */
  portalAnswered(): void {
    if (this.awaitingFirstMap() && this.failures > 0 && this.refreshing === undefined) void this.refresh();
  }

  private refresh(): Promise<void> {
    this.refreshing ??= this.load().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async load(): Promise<void> {
    clearTimeout(this.retryTimer);
    try {
      const map = await this.opts.directory.load(this.opts.client);
      this.opts.directory.setPortalMap(map);
      this.loaded = true;
      this.failures = 0;
      this.save(map);
      this.opts.onChange();
      this.opts.logger.info({ extensions: map.size }, 'user map loaded from Bitrix24 (UF_PHONE_INNER)');
    } catch (err) {
      if (this.loaded) {
        this.opts.logger.warn({ err }, 'could not load users from Bitrix24; keeping the previous map');
        return;
      }
      // Refused for good (a missing scope): retried at the next refresh, but no command waits for it meanwhile.
      if (err instanceof BitrixError && err.kind === 'fatal') this.givenUp = true;
      const retryInMs = backoffDelay(++this.failures, { initialMs: this.opts.firstRetryMs ?? 5_000, maxMs: 60_000, jitter: 0.2 });
      this.opts.logger.warn({ err, retryInMs }, 'could not load users from Bitrix24; keeping the previous map');
      this.retryTimer = setTimeout(() => void this.refresh(), retryInMs);
      this.retryTimer.unref();
    }
  }

  private save(map: ReadonlyMap<string, number>): void {
    if (!this.opts.db) return;
    try {
      kvSet(this.opts.db, KEY, { at: this.opts.clock(), extensions: Object.fromEntries(map) } satisfies SavedMap, this.opts.clock());
    } catch (err) {
      // The map in memory is current; only a restart during a portal outage would miss this copy.
      this.opts.logger.warn({ err }, 'could not save the user map in the state store');
    }
  }
}
