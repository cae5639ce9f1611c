/**
 * Portal state: users, CRM, live calls, statistics, records, external lines
 * and the side effects (notifications, tasks, comments...) tests assert on.
 */
import { phoneDigits, phpInt } from './php.js';
import type {
  CallState,
  CrmSeed,
  RecordAttachment,
  SeedCrmEntity,
  TranscriptAttachment,
  SeedUser,
  StatisticRow,
} from './types.js';

export interface UserRow {
  id: number;
  name: string;
  lastName: string;
  active: boolean;
  isRealUser: boolean;
  ufPhoneInner: string | null;
  email: string;
  workPosition: string;
  workPhone: string | null;
  personalPhone: string | null;
  personalMobile: string | null;
  department: number[];
  userType: string;
  timemanStatus: string;
  admin: boolean;
}

export type CrmType = 'CONTACT' | 'COMPANY' | 'LEAD';

export interface CrmRow {
  type: CrmType;
  id: number;
  name: string;
  lastName: string;
  title: string;
  phones: Array<{ VALUE: string; VALUE_TYPE: string }>;
  assignedById: number;
  sourceId?: string;
  origin: 'seed' | 'register' | 'rest';
  extra?: Record<string, unknown>;
}

export interface LineRow {
  id: number;
  number: string;
  name: string | null;
  crmAutoCreate: 'Y' | 'N';
  /** Lines belong to the caller (REST_APP_ID): null for the webhook, the app's id for the app. */
  restAppId: number | null;
}

type Counter = 'lead' | 'statistic' | 'file' | 'activity' | 'line' | 'notify' | 'task' | 'comment' | 'transcript';

export class EmulatorState {
  readonly users = new Map<number, UserRow>();
  readonly crm: Record<CrmType, Map<number, CrmRow>> = { CONTACT: new Map(), COMPANY: new Map(), LEAD: new Map() };
  readonly calls = new Map<string, CallState>();
  readonly statistics: StatisticRow[] = [];
  readonly records: RecordAttachment[] = [];
  /** Every transcript attached, in order; the call's statistics row names the last (TRANSCRIPT_ID). */
  readonly transcripts: TranscriptAttachment[] = [];
  readonly lines = new Map<number, LineRow>();
  readonly activities: Array<{ id: number; callId: string; bindings: Array<{ type: string; id: unknown }> }> = [];
  readonly chatMessages: Array<{ userId: number; phone: string; type: string; callId: string }> = [];
  readonly notifications: Array<{ id: number; userId: number; message: string; params: Record<string, unknown> }> = [];
  readonly tasks: Array<{ id: number; fields: Record<string, unknown> }> = [];
  readonly comments: Array<{ id: number; entityType: string; entityId: number; comment: string }> = [];
  private counters = new Map<Counter, number>();

  constructor(
    private readonly seedUsers: SeedUser[],
    private readonly seedCrm: CrmSeed,
  ) {
    this.reset();
  }

  /** Back to the seed: clears calls, statistics, records, lines and all side effects. */
  reset(): void {
    this.users.clear();
    for (const map of Object.values(this.crm)) map.clear();
    this.calls.clear();
    this.statistics.length = 0;
    this.records.length = 0;
    this.transcripts.length = 0;
    this.lines.clear();
    this.activities.length = 0;
    this.chatMessages.length = 0;
    this.notifications.length = 0;
    this.tasks.length = 0;
    this.comments.length = 0;
    this.counters.clear();
    for (const seed of this.seedUsers) this.addSeedUser(seed);
    this.addSeedCrm('CONTACT', this.seedCrm.contacts ?? []);
    this.addSeedCrm('COMPANY', this.seedCrm.companies ?? []);
    this.addSeedCrm('LEAD', this.seedCrm.leads ?? []);
    this.counters.set('lead', Math.max(0, ...this.crm.LEAD.keys()));
  }

  nextId(counter: Counter): number {
    const id = (this.counters.get(counter) ?? 0) + 1;
    this.counters.set(counter, id);
    return id;
  }

  /**
   * Active real user by id: what "User is not found or is not active" checks
   * (docs/reference/bitrix24-telephony.md#register-validation-order).
   */
  activeRealUser(id: number): UserRow | undefined {
    const user = this.users.get(id);
    return user && user.active && user.isRealUser ? user : undefined;
  }

  /** USER_PHONE_INNER lookup: exact digits, active real users only (src getUserByPhone). */
  userByInner(inner: string): UserRow | undefined {
    return [...this.users.values()].find((u) => u.ufPhoneInner === inner && u.active && u.isRealUser);
  }

  /**
   * PHONE_NUMBER is an active user's extension → internal portal call, CRM off
   * (docs/reference/bitrix24-telephony.md#internal-calls).
   */
  isPortalPhone(phone: string): boolean {
    return [...this.users.values()].some((u) => u.active && u.ufPhoneInner === phone);
  }

  /** Any phone of an active real user: leads are never created for those. */
  isLocalUserPhone(phone: string): boolean {
    const digits = phoneDigits(phone);
    return [...this.users.values()].some(
      (u) =>
        u.active &&
        u.isRealUser &&
        [u.ufPhoneInner, u.workPhone, u.personalPhone, u.personalMobile].some(
          (p) => p && phoneDigits(p) === digits,
        ),
    );
  }

  /** CRM entities whose phones match by digits, per type, in id order. */
  findCrmByPhone(phone: string): Record<CrmType, CrmRow[]> {
    const digits = phoneDigits(phone);
    const match = (row: CrmRow) => digits !== '' && row.phones.some((p) => phoneDigits(p.VALUE) === digits);
    const pick = (type: CrmType) => [...this.crm[type].values()].filter(match).sort((a, b) => a.id - b.id);
    return { CONTACT: pick('CONTACT'), COMPANY: pick('COMPANY'), LEAD: pick('LEAD') };
  }

  /**
   * A registered and not yet finished call (finish deletes it:
   * docs/reference/bitrix24-telephony.md#finish-behaviour).
   */
  liveCall(callId: string): CallState | undefined {
    const call = this.calls.get(callId);
    return call && !call.finished ? call : undefined;
  }

  statisticByCallId(callId: unknown): StatisticRow | undefined {
    return typeof callId === 'string' ? this.statistics.find((r) => r.CALL_ID === callId) : undefined;
  }

  lineByNumber(number: string, restAppId: number | null = null): LineRow | undefined {
    return [...this.lines.values()].find((l) => l.number === number && l.restAppId === restAppId);
  }

  linesOf(restAppId: number | null): LineRow[] {
    return [...this.lines.values()].filter((l) => l.restAppId === restAppId);
  }

  addLine(number: string, name: string | null, crmAutoCreate: 'Y' | 'N', restAppId: number | null = null): LineRow {
    const line = { id: this.nextId('line'), number, name, crmAutoCreate, restAppId };
    this.lines.set(line.id, line);
    return line;
  }

  /**
   * Re-attaching replaces the previous record of the call
   * (docs/reference/bitrix24-telephony.md#attach-record-modes).
   */
  attachRecord(record: Omit<RecordAttachment, 'fileId'>): number {
    const fileId = this.nextId('file');
    const index = this.records.findIndex((r) => r.callId === record.callId);
    const full = { ...record, fileId };
    if (index === -1) this.records.push(full);
    else this.records[index] = full;
    return fileId;
  }

  /** Saves a new transcript, never replacing one (docs/reference/bitrix24-telephony.md#attach-transcription). */
  attachTranscript(t: Omit<TranscriptAttachment, 'id'>): number {
    const id = this.nextId('transcript');
    this.transcripts.push({ ...t, id });
    return id;
  }

  private addSeedUser(seed: SeedUser): void {
    const id = phpInt(seed.ID);
    if (id <= 0 || this.users.has(id)) throw new Error(`Seed user ID ${String(seed.ID)} is invalid or duplicated`);
    const inner = normaliseInner(seed.UF_PHONE_INNER, id);
    if (inner !== null && [...this.users.values()].some((u) => u.ufPhoneInner === inner)) {
      throw new Error(`UF_PHONE_INNER ${inner} must be unique (user ${id})`);
    }
    this.users.set(id, {
      id,
      name: seed.NAME ?? '',
      lastName: seed.LAST_NAME ?? '',
      active: seed.ACTIVE === undefined || seed.ACTIVE === true || seed.ACTIVE === 'Y',
      isRealUser: seed.IS_REAL_USER ?? true,
      ufPhoneInner: inner,
      email: seed.EMAIL ?? '',
      workPosition: seed.WORK_POSITION ?? '',
      workPhone: seed.WORK_PHONE ?? null,
      personalPhone: seed.PERSONAL_PHONE ?? null,
      personalMobile: seed.PERSONAL_MOBILE ?? null,
      department: seed.UF_DEPARTMENT ?? [1],
      userType: seed.USER_TYPE ?? 'employee',
      timemanStatus: seed.TIMEMAN_STATUS ?? 'UNAVAILABLE',
      admin: seed.ADMIN ?? false,
    });
  }

  private addSeedCrm(type: CrmType, seeds: SeedCrmEntity[]): void {
    for (const seed of seeds) {
      const id = phpInt(seed.ID);
      if (id <= 0 || this.crm[type].has(id)) throw new Error(`Seed ${type} ID ${String(seed.ID)} is invalid or duplicated`);
      this.crm[type].set(id, {
        type,
        id,
        name: seed.NAME ?? '',
        lastName: seed.LAST_NAME ?? '',
        title: seed.TITLE ?? '',
        phones: (seed.PHONE ?? []).map((p) =>
          typeof p === 'string' ? { VALUE: p, VALUE_TYPE: 'WORK' } : { VALUE: p.VALUE, VALUE_TYPE: p.VALUE_TYPE ?? 'WORK' },
        ),
        assignedById: phpInt(seed.ASSIGNED_BY_ID),
        origin: 'seed',
      });
    }
  }
}

/**
 * UF_PHONE_INNER: non-digits stripped, then 1–4 digits or the profile save fails
 * (docs/reference/bitrix24-telephony.md#extension-limits).
 */
function normaliseInner(value: SeedUser['UF_PHONE_INNER'], userId: number): string | null {
  if (value === undefined || value === null || value === '') return null;
  const digits = String(value).replace(/\D+/g, '');
  if (!/^\d{1,4}$/.test(digits)) throw new Error(`UF_PHONE_INNER of user ${userId} must be 1-4 digits`);
  return digits;
}
