/**
 * Bitrix24 REST emulator, strict to the public REST docs (bitrix24/b24restdocs, bitrix-tools/b24-rest-docs) and the
 * `rest` / `voximplant` module sources, as summarised with their sources in docs/reference/ (bitrix24-rest.md,
 * bitrix24-telephony.md, bitrix24-apps.md). Used by the test-suite and by the daemon's demo mode. docs/emulator.md
 * lists the test controls.
 *
 * Emulated:
 * - Inbound webhook routes `/rest/{uid}/{code}/{method}[.json][/]` (GET/POST), lowercased methods,
 *   401 INVALID_CREDENTIALS / insufficient_scope, 404 ERROR_METHOD_NOT_FOUND.
 * - With `app`: application auth on `/rest/{method}[.json]` (Bearer header, else `auth` / `access_token`; removed
 *   from the params), 401 NO_AUTH_FOUND / invalid_token / APPLICATION_NOT_FOUND / expired_token / insufficient_scope
 *   in the order of rest/lib/oauth/auth.php; a separate authorization server (`oauthUrl`, `/oauth/token/`, both
 *   grants, rotation of both tokens, single-use refresh tokens and 30 s codes); the portal's `/oauth/authorize/`.
 * - Auth-type gates: event.* are app-only (403 WRONG_AUTH_TYPE); register, finish, externalLine.* refuse webhooks
 *   only when `refuseWebhookTelephony` is on (the documented 2026 rule; the source still lets webhooks through).
 *   A batch runs its commands under its own auth, so a refused command fails in `result_error`.
 * - event.bind/get/unbind, event.offline.get/clear/list, feature.get (rest_offline_extended); click-to-call and
 *   callback to every online (POST) and offline (queue row) binding; ONAPPINSTALL; app updates drop bindings.
 * - Parameter parsing: query + body (body wins); JSON (invalid → empty), PHP parse_str for
 *   everything else incl. brackets and `[]`, multipart fields; PHP casts/truthiness in handlers.
 * - Envelopes with `time`, errors without it, `[]` for empty arrays, list `total`/`next`.
 * - Leaky bucket per portal, shared by webhook and app (503 QUERY_LIMIT_EXCEEDED, request not executed).
 * - batch: cmd object/array, halt, `$result[…]` references, 50-command limit, batch/upload not allowed.
 * - telephony.externalcall.register/show/hide/finish/attachRecord/searchCrmEntities,
 *   telephony.externalLine.*, the upload URL flow; user.get/user.current; crm.duplicate.findbycomm,
 *   crm.lead.add, crm.{lead,contact,company}.get, crm.timeline.comment.add; im.notify,
 *   tasks.task.add; profile, scope, methods, server.time, app.info.
 * - Register dedup: an unfinished call with the same USER_ID, PHONE_NUMBER, TYPE, REST_APP_ID, line and
 *   EXTERNAL_CALL_ID whose CALL_START_DATE is within 30 minutes; a finished call never matches.
 * - Faults: failNext, portal down (HTTP status, reset, hang), recovery, lost answers (executed, then reset);
 *   the authorization server has its own fault controls (`oauth.faults`).
 *
 * Simplified / best guesses (the sources are silent):
 * - One webhook, one local app (REST_APP_ID 1; a new id and application_token after deleteApp + installApp;
 *   reinstallApp keeps both). No HTTPS check, no `.xml`, no auth_connector, no event.offline.error.
 * - Old access tokens stay valid until expiry after a refresh (`oldAccessTokenValidAfterRefresh`, default true):
 *   the 2020 docs say they die, but the portal caches checked tokens (rest/lib/oauth/auth.php) until `expires`.
 * - Token server statuses: invalid_grant/invalid_request/expired_token 400, invalid_client 401 (as the official PHP
 *   SDK expects); descriptions are guesses. An expired code answers expired_token (a captured answer); a used or
 *   unknown code, and a refresh token used, revoked or older than its TTL, answer invalid_grant (docs).
 * - invalid_token's text comes from the oauth2-php lineage; the authorize error page's status (400) is a guess.
 * - The token answer of authorization_code has the same fields as refresh (expires, user_id included).
 * - handlerHostNeedsDot defaults to true like the source; 127.0.0.1 contains dots, only `localhost`-like hosts fail.
 * - Offline MESSAGE_ID hashes JSON.stringify(data) (Bitrix's Json::encode also escapes slashes); EVENT_ADDITIONAL
 *   is `{user_id}`; filters support the source's operators on in-memory rows. As in the source, rows marked by a
 *   process stay hidden until cleared (no timeout): a lost clear=0 answer leaves them to event.offline.list.
 * - `scope` is comma-separated everywhere (token answers, ONAPPINSTALL, events, the authorize redirect).
 * - Online app events carry a fresh access token (no refresh token) for the triggering user; without a user
 *   (a callback from a widget) the auth block has no tokens. Only the two telephony start events ever fire.
 * - CRM phone matching compares digits only; primary entity order contact → company → lead;
 *   no deals, no e-mails, no permissions; activities are just ids.
 * - PHP arrays with mixed numeric/string keys iterate in JS order (integer keys first).
 * - strtotime accepts ISO-8601-like forms, `@unix`, `now` and RFC 2822 only.
 * - No per-method OPERATION_TIME_LIMIT (`time.operating` is always 0), no max_input_vars.
 * - Push&Pull is not emulated: shown/hidden cards are recorded on `calls`; ADD_TO_CHAT is
 *   recorded in `state.chatMessages`; finish's deprecated RECORD_URL is fetched in the background.
 * - Where the source and the docs differ the source wins: base64 that decodes to nothing is "not properly
 *   encoded"; extension checks are case-sensitive; event.offline.clear prefers message_id over id.
 * - Texts docs/reference/ does not give are best guesses: a forged upload token → 403 ACCESS_DENIED,
 *   findbycomm descriptions, im.notify / tasks.task.add / crm.timeline.comment.add errors (docs).
 * - A webhook owner missing from the user seed is accepted (only a seeded inactive owner fails).
 * - A numeric `setDown` answers with a small nginx-like HTML body; `untilMs` is an absolute
 *   emulator-clock time, `hangFor(ms)` the duration form.
 */
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { AppControls } from './bitrix/app/app-controls.js';
import { authorize } from './bitrix/app/authorize.js';
import type { DeliveryDeps } from './bitrix/app/deliveries.js';
import { handleOAuthRequest, oauthView, type OAuthView } from './bitrix/app/oauth-server.js';
import type { PortalApp } from './bitrix/app/portal-app.js';
import { createApp, internalError, listen } from './bitrix/boot.js';
import { Dispatcher, type BaseContext, type CallerAuth, type PortalPolicy } from './bitrix/dispatch.js';
import { RestError, parseOffset } from './bitrix/envelope.js';
import { postEvent, registerInternal, sendEvent, type EventName, type InternalRegisterInput, type SendEventOptions } from './bitrix/events.js';
import { Faults, type FaultControls } from './bitrix/faults.js';
import { LeakyBucket } from './bitrix/leaky-bucket.js';
import { methodTable } from './bitrix/methods/index.js';
import type { Params } from './bitrix/php.js';
import { handleRequest } from './bitrix/server.js';
import { EmulatorState } from './bitrix/state.js';
import type { CallState, CommandRecord, EmulatorOptions, EventRecord, RecordAttachment, RequestRecord, StatisticRow, TranscriptAttachment } from './bitrix/types.js';

export type * from './bitrix/types.js';
export type { FaultControls, FailureSpec, DownMode, LoseAnswerOptions } from './bitrix/faults.js';
export type { EventName, SendEventOptions, InternalRegisterInput } from './bitrix/events.js';
export type { EmulatorState } from './bitrix/state.js';
export type { Binding } from './bitrix/app/bindings.js';
export type { OfflineRow } from './bitrix/app/offline-queue.js';
export type { OAuthRequestRecord, OAuthView } from './bitrix/app/oauth-server.js';
export type { ClickToCallInput, ClickResult, CallbackInput, CallbackResult, Delivery, InstallResult } from './bitrix/app/deliveries.js';
export type { SentTokens } from './bitrix/app/app-controls.js';
export type { IssuedPair } from './bitrix/app/tokens.js';

const DEFAULT_SCOPES = ['telephony', 'crm', 'user', 'im', 'task'];
const DEFAULT_MEMBER_ID = '5f2b8e1c9d4a7b3e6f0a1c2d3e4f5a6b';

interface Resolved {
  userId: number;
  webhookCode: string;
  scopes: string[];
  memberId: string;
  domain: string;
  clock: () => number;
  maxBodyBytes: number;
}

export class BitrixEmulator extends AppControls {
  readonly requests: RequestRecord[] = [];
  readonly commands: CommandRecord[] = [];
  readonly events: EventRecord[] = [];
  /** Users, CRM, lines, notifications, tasks, comments, activities, chat messages. */
  readonly state: EmulatorState;
  readonly webhookUrl: string;
  readonly oauth: OAuthView;
  private readonly faultsImpl: Faults;
  private readonly oauthFaults: Faults;
  private readonly bucket: LeakyBucket;
  private readonly base: BaseContext;
  private readonly policy: PortalPolicy;
  private readonly appImpl: PortalApp | null;
  private closing = false;

  constructor(
    private readonly server: Server,
    private readonly oauthServer: Server,
    readonly url: string,
    /** The authorization server (`/oauth/token/`); its `/rest/` is the `server_endpoint` of tokens and events. */
    readonly oauthUrl: string,
    private readonly options: EmulatorOptions,
    private readonly r: Resolved,
  ) {
    super();
    const clock = r.clock;
    this.webhookUrl = `${url}/rest/${r.userId}/${r.webhookCode}/`;
    this.state = new EmulatorState(options.users ?? [{ ID: r.userId, NAME: 'Webhook', LAST_NAME: 'Owner', ACTIVE: true, ADMIN: true }], options.crm ?? {});
    this.faultsImpl = new Faults(clock);
    this.oauthFaults = new Faults(clock);
    const limit = options.rateLimit ?? { perSecond: 2, burst: 50 };
    this.bucket = new LeakyBucket(limit, clock);
    this.policy = { refuseWebhookTelephony: options.refuseWebhookTelephony ?? false, offlineExtended: options.offlineExtended ?? true };
    this.appImpl = options.app ? createApp(options.app, { ...r, ...(options.users ? { users: options.users } : {}) }) : null;
    const app = this.appImpl;
    this.oauth = oauthView(app, this.oauthFaults);
    this.base = {
      state: this.state,
      clock,
      offsetMinutes: parseOffset(options.portalTimezoneOffset ?? '+03:00'),
      app,
      policy: this.policy,
      restBase: `${url}/rest/`,
      webhookBase: this.webhookUrl,
      tokenSecret: randomBytes(16).toString('hex'),
      fail: (message) => new RestError(400, options.errorCode ?? '', message),
    };
    const dispatcher = new Dispatcher(methodTable(), this.base, (c) => this.commands.push(c));
    const identity = { domain: r.domain, memberId: r.memberId, oauthDomain: new URL(oauthUrl).host };
    const deps = {
      clock,
      offsetMinutes: this.base.offsetMinutes,
      userId: r.userId,
      webhookCode: r.webhookCode,
      maxBodyBytes: r.maxBodyBytes,
      faults: this.faultsImpl,
      bucket: this.bucket,
      dispatcher,
      requests: this.requests,
      state: this.state,
      app,
      webhookAuth: (): CallerAuth => ({ type: 'webhook', userId: r.userId, scopes: r.scopes, appId: null, accessToken: null }),
      authorize: (query: URLSearchParams) => authorize(app, identity, query),
      ownerInactive: () => this.state.users.get(r.userId)?.active === false,
      isClosing: () => this.closing,
    };
    server.on('request', (req, res) => handleRequest(deps, req, res).catch((err: unknown) => internalError(res, err)));
    const oauthDeps = {
      clock,
      app,
      faults: this.oauthFaults,
      requests: this.oauth.requests,
      url: () => oauthUrl,
      clientEndpoint: `${url}/rest/`,
      memberId: r.memberId,
      isClosing: () => this.closing,
    };
    oauthServer.on('request', (req, res) => handleOAuthRequest(oauthDeps, req, res).catch((err: unknown) => internalError(res, err)));
  }

  get faults(): FaultControls {
    return this.faultsImpl;
  }

  /** Calls by CALL_ID; finished ones stay with `finished: true`. */
  get calls(): Map<string, CallState> {
    return this.state.calls;
  }

  get statistics(): StatisticRow[] {
    return this.state.statistics;
  }

  get records(): RecordAttachment[] {
    return this.state.records;
  }

  /** Every transcript attached (telephony.call.attachTranscription), in order. */
  get transcripts(): TranscriptAttachment[] {
    return this.state.transcripts;
  }

  /** Current leaky-bucket level (requests not yet drained). */
  get rateLimitFill(): number {
    return this.bucket.fill;
  }

  /** Every call registered with this EXTERNAL_CALL_ID (a second one means a duplicate in Bitrix24). */
  callsFor(externalCallId: string): CallState[] {
    return [...this.state.calls.values()].filter((c) => c.externalCallId === externalCallId);
  }

  /** How many register commands (batch sub-commands included) carried this EXTERNAL_CALL_ID and succeeded. */
  registrationCount(externalCallId: string): number {
    return this.commands.filter(
      (c) => c.ok && c.method === 'telephony.externalcall.register' && String(c.params.EXTERNAL_CALL_ID) === externalCallId,
    ).length;
  }

  /** Back to the seeded state; logs are emptied in place, faults cleared, the app as first installed. */
  reset(): void {
    this.requests.length = 0;
    this.commands.length = 0;
    this.events.length = 0;
    this.oauth.requests.length = 0;
    this.state.reset();
    this.bucket.reset();
    this.faultsImpl.clear();
    this.oauthFaults.clear();
    this.policy.refuseWebhookTelephony = this.options.refuseWebhookTelephony ?? false;
    this.policy.offlineExtended = this.options.offlineExtended ?? true;
    this.appImpl?.reset();
  }

  /** Registers a call the way Bitrix does for click-to-call; throws on validation errors. */
  registerInternal(input: InternalRegisterInput): Record<string, unknown> {
    return registerInternal({ ctx: this.base }, input);
  }

  /** POSTs an event like Bitrix's queue (outgoing-webhook style); resolves with the CALL_ID for ONEXTERNALCALLSTART. */
  sendEvent(targetUrl: string, event: EventName, data: Params, options: SendEventOptions): Promise<string | undefined> {
    const deps = { ctx: this.base, url: this.url, memberId: this.r.memberId, events: this.events };
    return sendEvent(deps, targetUrl, event, data, options);
  }

  /** POSTs a recorded event once more, byte for byte ("delivered twice"); the new delivery is recorded too. */
  async resendEvent(record: EventRecord): Promise<EventRecord> {
    const again: EventRecord = { at: this.r.clock(), event: record.event, targetUrl: record.targetUrl, body: record.body };
    this.events.push(again);
    await postEvent(again);
    return again;
  }

  setRefuseWebhookTelephony(refuse: boolean): void {
    this.policy.refuseWebhookTelephony = refuse;
  }

  setOfflineExtended(enabled: boolean): void {
    this.policy.offlineExtended = enabled;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.faultsImpl.dispose();
    this.oauthFaults.dispose();
    await Promise.all(
      [this.server, this.oauthServer].map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
  }

  protected get app(): PortalApp {
    if (!this.appImpl) throw new Error('The emulator runs without an app: pass the `app` option');
    return this.appImpl;
  }

  protected deliveryDeps(): DeliveryDeps {
    const portal = { url: this.url, domain: this.r.domain, memberId: this.r.memberId, oauthUrl: this.oauthUrl };
    return { app: this.app, ctx: this.base, portal, events: this.events };
  }
}

export async function startBitrixEmulator(options: EmulatorOptions = {}): Promise<BitrixEmulator> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer();
  const oauthServer = createServer();
  const url = await listen(server, options.port ?? 0, host);
  const oauthUrl = await listen(oauthServer, options.oauthPort ?? 0, host);
  const userId = options.userId ?? 1;
  return new BitrixEmulator(server, oauthServer, url, oauthUrl, options, {
    userId,
    webhookCode: options.webhookCode ?? 'testcode123',
    scopes: options.scopes ?? DEFAULT_SCOPES,
    memberId: options.memberId ?? DEFAULT_MEMBER_ID,
    domain: options.domain ?? new URL(url).host,
    clock: options.clock ?? Date.now,
    maxBodyBytes: options.maxBodyBytes ?? 64 * 1024 * 1024,
  });
}
