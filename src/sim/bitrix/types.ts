/** Public option, seed and record types of the Bitrix24 emulator. */
import type { ErrorBody } from './envelope.js';
import type { RateLimit } from './leaky-bucket.js';
import type { Params } from './php.js';

export type { Params, ErrorBody, RateLimit };

export interface SeedUser {
  ID: number | string;
  NAME?: string;
  LAST_NAME?: string;
  /** true / 'Y' = active. Default true. */
  ACTIVE?: boolean | 'Y' | 'N';
  /** 1–4 digits, unique (docs/reference/bitrix24-telephony.md#extension-limits); null/absent = no extension. */
  UF_PHONE_INNER?: string | number | null;
  /** false for bots/email users; they are invisible to user.get and telephony. Default true. */
  IS_REAL_USER?: boolean;
  EMAIL?: string;
  WORK_POSITION?: string;
  WORK_PHONE?: string | null;
  PERSONAL_PHONE?: string | null;
  PERSONAL_MOBILE?: string | null;
  UF_DEPARTMENT?: number[];
  USER_TYPE?: 'employee' | 'extranet' | 'email';
  /**
   * Reported in searchCrmEntities ASSIGNED_BY (docs/reference/bitrix24-telephony.md#search-crm-entities).
   * Default 'UNAVAILABLE'.
   */
  TIMEMAN_STATUS?: 'OPENED' | 'CLOSED' | 'PAUSED' | 'EXPIRED' | 'UNAVAILABLE' | 'NOT_INSTALLED';
  ADMIN?: boolean;
}

export interface SeedPhone {
  VALUE: string;
  VALUE_TYPE?: string;
}

export interface SeedCrmEntity {
  ID: number | string;
  NAME?: string;
  LAST_NAME?: string;
  TITLE?: string;
  PHONE?: Array<SeedPhone | string>;
  ASSIGNED_BY_ID: number | string;
}

export interface CrmSeed {
  contacts?: SeedCrmEntity[];
  companies?: SeedCrmEntity[];
  leads?: SeedCrmEntity[];
}

export interface EmulatorOptions {
  host?: string;
  /** 0 = random free port. */
  port?: number;
  /** Webhook owner. Default 1. */
  userId?: number;
  webhookCode?: string;
  /** Default {perSecond: 2, burst: 50}; `false` or Infinity values disable it. */
  rateLimit?: RateLimit | false;
  /** Milliseconds since the epoch; injectable for tests. Default Date.now. */
  clock?: () => number;
  /** Default ['telephony', 'crm', 'user', 'im', 'task']. */
  scopes?: string[];
  /**
   * Wire code of plain RestException errors (docs/reference/bitrix24-rest.md#empty-error-codes). Default ''
   * (real); 'ERROR_CORE' as in the 2026 docs.
   */
  errorCode?: '' | 'ERROR_CORE';
  /** Default: only the webhook owner, active, without extension. */
  users?: SeedUser[];
  crm?: CrmSeed;
  /** Portal timezone for `date_*` fields and offset-less CALL_START_DATE. Default '+03:00'. */
  portalTimezoneOffset?: string;
  /** Max request body; larger bodies get 413. Default 64 MB. */
  maxBodyBytes?: number;
  /** auth[member_id] in events. Default a fixed 32-hex string. */
  memberId?: string;
  /** The portal's host name in auth[domain] and the authorize redirect. Default the emulator's host:port. */
  domain?: string;
  /** A local application is installed: OAuth server, app auth on /rest/{method}, events. Absent = webhook only. */
  app?: AppOptions;
  /** Refuse inbound webhooks for register/finish/externalLine.* with 403 WRONG_AUTH_TYPE (documented 2026 rule). */
  refuseWebhookTelephony?: boolean;
  /** Plan feature rest_offline_extended (event.offline.get with clear=0). Default true. */
  offlineExtended?: boolean;
  /** Port of the separate authorization server (0 = random). Default 0. */
  oauthPort?: number;
}

export interface AppOptions {
  clientId: string;
  clientSecret: string;
  /** Default 3600. */
  accessTokenTtlSec?: number;
  /** Default 180 days. */
  refreshTokenTtlSec?: number;
  /** Scopes in the app's card. Default the emulator's `scopes`. */
  scopes?: string[];
  /** The app's handler path: where the authorize page redirects with `code`. */
  handlerUrl?: string;
  /** Whether an access token keeps working until its expiry after its refresh token was used. Default true. */
  oldAccessTokenValidAfterRefresh?: boolean;
  /** The installing administrator; tokens are issued for this user. Default the `userId` option. */
  userId?: number;
  /** rest/lib/handlerhelper.php: the handler's host must contain a dot. Default false (tests use 127.0.0.1). */
  handlerHostNeedsDot?: boolean;
  /** REST_APP_NAME in statistics. Default 'Asterisk bridge'. */
  name?: string;
  /** data[VERSION] of ONAPPINSTALL. Default '1'. */
  version?: string;
}

/** How a REST request authenticated (tokens are never stored here, only their issue order). */
export type RequestAuth =
  | { type: 'webhook' }
  | {
      type: 'app';
      /** Issue order of the access token (see `oauth.serialOf`); null when unknown or absent. */
      tokenSerial: number | null;
      /** The token's refresh token had already been used: a newer pair existed. */
      superseded: boolean;
      outcome: 'ok' | 'missing' | 'invalid' | 'expired' | 'app-not-found' | 'user-inactive';
    };

/** Everything the HTTP server saw, in arrival order. */
export interface RequestRecord {
  at: number;
  method: string;
  path: string;
  /** Lowercased REST method, or null when the path is not a REST route. */
  restMethod: string | null;
  /** Params as the method saw them: app auth parameters (auth, access_token, auth_connector) are removed. */
  params: Params;
  /** 0 when the connection was reset or dropped without an answer. */
  status: number;
  response: unknown;
  /** Null for non-REST paths and requests refused before auth (faults, rate limit). */
  auth: RequestAuth | null;
  /** The request was executed, then the connection was reset instead of answering (`faults.loseAnswers`). */
  answerLost?: boolean;
}

/** One executed REST method call (batch sub-commands included). */
export interface CommandRecord {
  at: number;
  method: string;
  params: Params;
  ok: boolean;
  result?: unknown;
  error?: ErrorBody;
  viaBatch: boolean;
  /** Batch sub-commands run under the batch's auth. */
  authType: 'webhook' | 'app';
}

export interface CreatedEntity {
  ENTITY_TYPE: string;
  ENTITY_ID: number;
}

/** A registered call. Finished calls stay here with `finished: true` for assertions. */
export interface CallState {
  callId: string;
  userId: number;
  phone: string;
  type: number;
  lineNumber: string | null;
  portalNumber: string;
  externalCallId: string | null;
  /**
   * CALL_START_DATE (ms): the 30-minute dedup window is anchored here
   * (docs/reference/bitrix24-telephony.md#re-registration).
   */
  startedAt: number;
  /** PHONE_NUMBER is some active user's UF_PHONE_INNER: CRM is off. */
  internal: boolean;
  crmEntityType: string | null;
  crmEntityId: unknown;
  createdLeadId: number | null;
  createdEntities: CreatedEntity[];
  shownTo: Set<number>;
  hiddenFor: Set<number>;
  finished: boolean;
  finishedBy: number | null;
  /**
   * 'internal' = registered by Bitrix itself for click-to-call
   * (docs/reference/bitrix24-telephony.md#click-to-call-event).
   */
  registeredVia: 'rest' | 'internal';
  /** REST_APP_ID: null for webhook registrations; part of the dedup key. */
  restAppId: number | null;
}

export type StatisticRow = Record<string, unknown> & { CALL_ID: string; ID: number };

/** One telephony.call.attachTranscription: a call may have several (each attach saves a new one). */
export interface TranscriptAttachment {
  id: number;
  callId: string;
  messages: ReadonlyArray<{ SIDE: 'User' | 'Client'; START_TIME: number; STOP_TIME: number; MESSAGE: string }>;
  cost?: number;
  costCurrency?: string;
}

export interface RecordAttachment {
  callId: string;
  fileName: string;
  bytes: Buffer;
  mode: 'base64' | 'upload' | 'url';
  fileId: number;
}

export interface EventRecord {
  at: number;
  event: string;
  targetUrl: string;
  body: string;
  status?: number;
  error?: string;
}
