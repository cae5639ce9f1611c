/**
 * The emulator's controls for its local application: what an admin or the portal does (authorize, install,
 * update, delete, a click, a callback) and what tests look at (bindings, the offline queue). BitrixEmulator
 * extends this class, so the controls read as `emulator.clickToCall(…)`.
 */
import type { Params } from '../php.js';
import type { Binding } from './bindings.js';
import * as deliveries from './deliveries.js';
import type { OfflineRow } from './offline-queue.js';
import type { PortalApp } from './portal-app.js';

export type SentTokens = deliveries.InstallResult['sent'];

export abstract class AppControls {
  /** The app; throws when the emulator runs without the `app` option. */
  protected abstract get app(): PortalApp;
  protected abstract deliveryDeps(): deliveries.DeliveryDeps;

  /** The app's application_token (sent in ONAPPINSTALL and every event). */
  get applicationToken(): string {
    return this.app.applicationToken;
  }

  /** Where `/oauth/authorize/` redirects with `code`; undefined shows the code on the page instead. */
  setAppHandlerUrl(url: string | undefined): void {
    this.app.handlerUrl = url;
  }

  /** A code as if the admin had opened `/oauth/authorize/` now: single use, 30 s of emulator clock. */
  authorizationCode(): string {
    return this.app.tokens.mintCode(this.app.config.userId);
  }

  /** A fresh pair for the installing admin without any HTTP (to seed a daemon's state). */
  issueAppTokens(): SentTokens {
    const pair = this.app.tokens.issuePair(this.app.config.userId);
    const { memberId, domain } = this.deliveryDeps().portal;
    return { ...pair, applicationToken: this.app.applicationToken, memberId, domain };
  }

  /** Every refresh token issued so far answers invalid_grant. */
  revokeRefreshTokens(): void {
    this.app.tokens.revokeRefreshTokens();
  }

  /** Every access token issued so far has expired. */
  expireAccessTokens(): void {
    this.app.tokens.expireAccessTokens();
  }

  /** The app is removed: invalid_client at the token server, APPLICATION_NOT_FOUND on REST, bindings gone. */
  deleteApp(): void {
    this.app.remove();
  }

  /** An update of the app: its bindings and offline rows are deleted; tokens stay good. */
  reinstallApp(): void {
    this.app.update();
  }

  /** (Re)installs the app (bindings dropped) and POSTs ONAPPINSTALL with a fresh pair to `installUrl`. */
  installApp(installUrl: string, languageId?: string): Promise<deliveries.InstallResult> {
    this.app.install();
    return deliveries.postInstall(this.deliveryDeps(), installUrl, languageId);
  }

  /** A user clicks a number in Bitrix24: register, then every ONEXTERNALCALLSTART binding gets it. */
  clickToCall(input: deliveries.ClickToCallInput): Promise<deliveries.ClickResult> {
    return deliveries.clickToCall(this.deliveryDeps(), input);
  }

  /** A callback request: every ONEXTERNALCALLBACKSTART binding gets it (no call is registered). */
  callback(input: deliveries.CallbackInput): Promise<deliveries.CallbackResult> {
    return deliveries.callback(this.deliveryDeps(), input);
  }

  /** The app's event bindings in ID order. */
  get bindings(): readonly Binding[] {
    return this.app.bindings.list();
  }

  /** The offline queue (copies), marked rows included. */
  get offlineEvents(): OfflineRow[] {
    return this.app.offline.snapshot();
  }

  /** Adds an offline row as the portal would (merging into an unfetched identical event). */
  pushOfflineEvent(eventName: string, data: Params, userId = this.app.config.userId): OfflineRow {
    const additional = { LOCAL_USER: userId, application_token: this.app.applicationToken };
    return { ...this.app.offline.push(eventName.toUpperCase(), data, additional) };
  }

  /** Forgets the marks of one process (or all): those rows are delivered again, as after a reader crash. */
  releaseOfflineMarks(processId?: string): number {
    return this.app.offline.releaseMarks(processId);
  }
}
