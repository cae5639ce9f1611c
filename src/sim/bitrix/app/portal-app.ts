/**
 * The one local application installed on the emulated portal: its credentials, tokens, event bindings, offline
 * queue and application_token, plus the lifecycle a test can drive (update, delete, install again).
 */
import { randomBytes } from 'node:crypto';
import { tokenMatches } from '../../../http/auth.js';
import { Bindings } from './bindings.js';
import { OfflineQueue } from './offline-queue.js';
import { TokenStore } from './tokens.js';

export interface AppConfig {
  clientId: string;
  clientSecret: string;
  accessTtlMs: number;
  refreshTtlMs: number;
  scopes: readonly string[];
  /** The installing administrator: grants are issued for this user. */
  userId: number;
  /** Whether the installer counts as an administrator: true unless the user seed says ADMIN: false. */
  installerIsAdmin: boolean;
  name: string;
  version: string;
  oldAccessTokenValidAfterRefresh: boolean;
  handlerHostNeedsDot: boolean;
}

export class PortalApp {
  readonly tokens: TokenStore;
  readonly bindings = new Bindings();
  readonly offline: OfflineQueue;
  /** REST_APP_ID of calls and lines it registers; a new id after delete + install. */
  id = 1;
  applicationToken = newApplicationToken();
  private readonly firstApplicationToken = this.applicationToken;
  deleted = false;
  handlerUrl: string | undefined;

  constructor(
    readonly config: AppConfig,
    clock: () => number,
    handlerUrl?: string,
  ) {
    this.tokens = new TokenStore(clock, {
      accessMs: config.accessTtlMs,
      refreshMs: config.refreshTtlMs,
      oldAccessValidAfterRefresh: config.oldAccessTokenValidAfterRefresh,
    });
    this.offline = new OfflineQueue(clock);
    this.handlerUrl = handlerUrl;
  }

  /** The token endpoint's client check; a deleted app has no valid credentials. */
  credentialsMatch(clientId: string, clientSecret: string): boolean {
    return !this.deleted && clientId === this.config.clientId && tokenMatches(this.config.clientSecret, clientSecret);
  }

  /** `scope` as the OAuth server writes it: comma-separated. */
  get scopeList(): string {
    return this.config.scopes.join(',');
  }

  /** An update (or a reinstall over the existing app): its handlers and offline rows are deleted. */
  update(): void {
    this.bindings.clear();
    this.offline.clearAll();
  }

  remove(): void {
    this.deleted = true;
    this.update();
  }

  /** Emulator reset: the app as first installed (same id and application_token, nothing issued, no bindings). */
  reset(): void {
    this.id = 1;
    this.applicationToken = this.firstApplicationToken;
    this.deleted = false;
    this.tokens.reset();
    this.update();
  }

  /** Install: after a deletion it is a new app row (new id, new application_token, old tokens unknown). */
  install(): void {
    if (this.deleted) {
      this.deleted = false;
      this.id++;
      this.applicationToken = newApplicationToken();
      this.tokens.clear();
    }
    this.update();
  }
}

/** 32 hex characters, like the captured application tokens. */
function newApplicationToken(): string {
  return randomBytes(16).toString('hex');
}
