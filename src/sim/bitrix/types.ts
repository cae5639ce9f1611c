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
  /** 1–4 digits, unique (§7); null/absent = no extension. */
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
  /** Reported in searchCrmEntities ASSIGNED_BY (§5.5). Default 'UNAVAILABLE'. */
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
  /** Wire code of plain RestException errors (§2.2). Default '' (real); 'ERROR_CORE' as in the 2026 docs. */
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
}

/** Everything the HTTP server saw, in arrival order. */
export interface RequestRecord {
  at: number;
  method: string;
  path: string;
  /** Lowercased REST method, or null when the path is not a REST route. */
  restMethod: string | null;
  params: Params;
  /** 0 when the connection was reset or dropped without an answer. */
  status: number;
  response: unknown;
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
  /** CALL_START_DATE (ms): the 30-minute dedup window is anchored here (§9.6). */
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
  /** 'internal' = registered by Bitrix itself for click-to-call (§6.3). */
  registeredVia: 'rest' | 'internal';
}

export type StatisticRow = Record<string, unknown> & { CALL_ID: string; ID: number };

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
