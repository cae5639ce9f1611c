/**
 * The ring-back policy's vocabulary: inputs (normalized AMI events, timers, action results, a QueueStatus
 * snapshot), effects (data the service performs) and the persisted state. No I/O here.
 * Every input carries `at` in ms; the service stamps it with its own clock (see service.ts for why).
 */

export type RingBackPolicyName = 'pause' | 'penalty';

/** One `QueueMember` item of QueueStatus (Name/Location there, MemberName/Interface in member events). */
export interface MemberSnapshot {
  queue: string;
  iface: string;
  memberName: string;
  paused: boolean;
  reason: string;
  penalty: number;
  /** LastPause in ms; 0 when never paused. Only the time of the latest pause, not "is paused". */
  lastPauseAt: number;
}

export interface QueueInfo {
  queue: string;
  strategy: string;
}

/** What the service asked Asterisk to do, for results. */
/** handBack: a pause someone else made before ours landed, given back with their reason (see ChangeBook.handBack). */
export type ActionOp = 'pause' | 'unpause' | 'raisePenalty' | 'restorePenalty' | 'handBack';
/** failed = Asterisk said no, refused = not sent (state not saved): nothing happened. timeout/disconnected = we do not know. */
export type ActionOutcome = 'ok' | 'failed' | 'refused' | 'timeout' | 'disconnected';

interface At {
  at: number;
}

export type RingBackInput =
  | (At & { kind: 'queueParams'; queue: string; strategy: string })
  | (At & { kind: 'ringNoAnswer'; queue: string; iface: string; memberName: string; ringTimeMs: number })
  | (At & { kind: 'agentConnect'; queue: string; iface: string; memberName: string })
  /** `penalty`: member events carry the whole member, penalty included. */
  | (At & { kind: 'memberPause'; queue: string; iface: string; memberName: string; paused: boolean; reason: string; penalty?: number })
  | (At & { kind: 'memberPenalty'; queue: string; iface: string; memberName: string; penalty: number })
  | (At & { kind: 'memberAdded'; member: MemberSnapshot })
  | (At & { kind: 'memberRemoved'; queue: string; iface: string; memberName: string })
  | (At & { kind: 'timer'; id: string })
  | (At & { kind: 'actionResult'; op: ActionOp; queue: string; iface: string; outcome: ActionOutcome; message?: string })
  /** A complete QueueStatus (all queues). `requestedAt`: when it was asked; newer events win over it. */
  | (At & { kind: 'reconcile'; requestedAt: number; queues: QueueInfo[]; members: MemberSnapshot[] })
  /** Undo everything we hold now (shutdown for good). */
  | (At & { kind: 'release' })
  /** An admin's word (the live view): undo what we hold on this member of this queue now, cooldown or not. */
  | (At & { kind: 'releaseMember'; queue: string; iface: string });

export type RingBackInputKind = RingBackInput['kind'];

/** Why a change ended or was not made; also the `cause` label of metrics. */
export type RingBackCause =
  | 'noAnswer'
  | 'cooldownOver'
  /** An admin released the member early (the live view). */
  | 'released'
  | 'answered'
  | 'memberRemoved'
  | 'memberGone'
  | 'pausedByOther'
  | 'unpausedByOther'
  | 'penaltyChangedByOther'
  | 'actionFailed'
  | 'uncertain'
  | 'notSaved'
  | 'shutdown'
  | 'busy'
  | 'alreadyPaused'
  | 'penaltyUnknown'
  | 'missCounted'
  | 'foundAtReconcile'
  | 'foundInEvent';

export type RingBackLogEvent = 'applied' | 'undone' | 'failed' | 'forgotten' | 'handedBack' | 'adopted' | 'uncertain' | 'skipped';

export type RingBackEffect =
  /** Save `policy.snapshot()` now, before the actions that follow (they are recorded as intended first). */
  | { type: 'persist' }
  | { type: 'pause'; queue: string; iface: string; reason: string; cooldownMs: number }
  | { type: 'unpause'; queue: string; iface: string; cause: RingBackCause }
  | { type: 'setPenalty'; queue: string; iface: string; penalty: number; purpose: 'raise' | 'restore'; restoreTo?: number }
  /** QueuePause Paused=true with `reason`: the member's own pause, whose reason our pause overwrote, put back. */
  | { type: 'handBack'; queue: string; iface: string; reason: string }
  /** Replaces a timer with the same id. */
  | { type: 'scheduleTimer'; id: string; at: number }
  | { type: 'cancelTimer'; id: string }
  /** The strategy of this queue is unknown (a realtime queue, added after start): ask QueueStatus Queue=<queue>. */
  | { type: 'queryQueue'; queue: string }
  | { type: 'notify'; queue: string; iface: string; memberName: string; cooldownSec: number; policy: RingBackPolicyName }
  | {
      type: 'log';
      level: 'debug' | 'info' | 'warn' | 'error';
      event: RingBackLogEvent;
      queue: string;
      iface: string;
      memberName: string;
      policy: RingBackPolicyName;
      cause: RingBackCause;
      /** pause only: the change's own reason (see RingBackChange.reason). */
      reason?: string;
      cooldownSec?: number;
      penalty?: number;
      detail?: string;
    };

/** One change we made to one member of one queue, from the moment we decide it until it is undone or forgotten. */
export interface RingBackChange {
  queue: string;
  iface: string;
  memberName: string;
  policy: RingBackPolicyName;
  /** applying: sent, Asterisk's event not seen yet; active: confirmed; undoing: undo sent, not confirmed. */
  phase: 'applying' | 'active' | 'undoing';
  /** Asterisk answered Success to the action. */
  acked: boolean;
  changedAt: number;
  until: number;
  cooldownMs: number;
  level: number;
  /** pause only: the Reason we paused with (a reload may change the configured one); absent in files before it was saved. */
  reason?: string;
  /** penalty only: the value we set, and the one to put back. */
  raisedTo?: number;
  restoreTo?: number;
  undoCause?: RingBackCause;
}

/** Escalation memory per member and queue: how many actions in a row, and the last penalty we raised. */
export interface RingBackStrike {
  queue: string;
  iface: string;
  level: number;
  lastAt: number;
  raisedTo?: number;
  restoreTo?: number;
}

export interface RingBackState {
  version: 1;
  changes: RingBackChange[];
  strikes: RingBackStrike[];
}

