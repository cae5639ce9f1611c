/**
 * What the core asks the edges to do. Data only: the runtime performs them.
 * Bitrix24 effects name the call by Linkedid; the outbox maps it to Bitrix24's CALL_ID.
 */

export type CallType = 1 | 2 | 4; // 1 outbound, 2 inbound, 4 callback (Bitrix24 TYPE)

/**
 * `userExt` on register, finish and callEnded: the core derived the user from this extension (an outbound call's
 * placer, an inbound call's first ringing member, the agent who talked last), but the extension mapped to no user
 * when the effect was made, so `userId` is the default user. The delivery layer resolves it again when it sends the
 * command: a user map that arrives later (the portal was down) still attributes the call to its agent. Absent when
 * `userId` is the extension's own user, or when no extension was involved (a missed call nobody's card showed).
 */
export interface RegisterCall {
  type: 'register';
  linkedid: string;
  userId: number;
  userExt?: string;
  phoneNumber: string;
  callType: CallType;
  lineNumber: string;
  startedAt: number;
  crmCreate: boolean;
  /** The CRM entity the call belongs to, known before it started (a callback form's): Bitrix24 binds it as is. */
  crmEntity?: CrmBinding;
}

export interface CrmBinding {
  type: string;
  id: number;
}

export interface ShowCard {
  type: 'show';
  linkedid: string;
  userIds: number[];
}

export interface HideCard {
  type: 'hide';
  linkedid: string;
  userIds: number[];
}

/** Bitrix24 STATUS_CODE values we send (docs/reference/bitrix24-telephony.md#status-codes). */
export type FinishStatus = '200' | '304' | '486' | '603' | '603-S' | '480' | '503';

export interface FinishCall {
  type: 'finish';
  linkedid: string;
  userId: number;
  userExt?: string;
  durationSec: number;
  status: FinishStatus;
}

export interface AttachRecording {
  type: 'attachRecording';
  linkedid: string;
  path: string;
  endedAt: number;
  /** What transcripts need to know of the call (issue 18): whether and how to transcribe its recording. */
  call: RecordedCall;
}

export interface RecordedCall {
  direction: 'inbound' | 'outbound';
  /** The finish's DURATION (talk seconds): transcript times must lie within it. */
  durationSec: number;
  answered: boolean;
  queue?: string;
  /** The recording was started on the customer's channel (its receive side is the customer), else on the agent's. */
  recordedOn: 'customer' | 'agent';
}

/** Click-to-call reuses Bitrix24's CALL_ID: the outbox learns it without a register. */
export interface BindCallId {
  type: 'bindCallId';
  linkedid: string;
  callId: string;
}

/** An extension rang or talked but maps to no Bitrix24 user: reported once per extension. */
export interface UnmappedExtension {
  type: 'unmappedExtension';
  ext: string;
}

/**
 * The core tracked as many calls or channels as it may (limits.ts) and evicted the oldest idle ones during this
 * input: how many. A broken or hostile AMI costs bounded memory; the runtime counts these and logs a streak once.
 */
export interface Evicted {
  type: 'evicted';
  calls: number;
  channels: number;
}

/** A call broke the transition table: only that call is dropped, reported once. */
export interface CallPoisoned {
  type: 'callPoisoned';
  linkedid: string;
  reason: string;
}

/** Summary of a finished call, for logs, metrics and CRM follow-ups. */
export interface CallEnded {
  type: 'callEnded';
  linkedid: string;
  direction: 'inbound' | 'outbound';
  phoneNumber: string;
  status: FinishStatus;
  userId: number;
  userExt?: string;
  durationSec: number;
  queue?: string;
  /** Seconds the caller waited in the queue before an agent answered (or until they left). */
  waitSec?: number;
  rungExtensions: string[];
  /** Agents who talked to the caller, in order. */
  answeredBy: string[];
  transfers: string[];
}

export type Effect =
  | RegisterCall
  | ShowCard
  | HideCard
  | FinishCall
  | AttachRecording
  | BindCallId
  | UnmappedExtension
  | CallPoisoned
  | Evicted
  | CallEnded;

/** Effects that become Bitrix24 commands, in order, per call. */
export type BitrixEffect = RegisterCall | ShowCard | HideCard | FinishCall | AttachRecording | BindCallId;

export function isBitrixEffect(e: Effect): e is BitrixEffect {
  return e.type === 'register' || e.type === 'show' || e.type === 'hide' || e.type === 'finish' || e.type === 'attachRecording' || e.type === 'bindCallId';
}
