import type { CallPhase } from './call-table.js';
import type { FinishStatus } from './effects.js';

/** One physical call, keyed by Linkedid: what the core knows about it. Its phases are in call-table.ts. */

export interface RingLeg {
  ext: string;
  userId: number | undefined;
  /**
   * A consultation's ring (attended transfer): answered, the target consults with the transferring agent (the leg
   * goes to `consults`), and takes the customer only when the transfer completes.
   */
  consult?: true;
}

export interface Call {
  linkedid: string;
  phase: CallPhase;
  direction: 'inbound' | 'outbound' | undefined;
  startedAt: number;
  /** Uniqueids of this call's live channels; the call ends when the last one hangs up. */
  channels: Set<string>;
  phoneNumber: string;
  lineNumber: string;
  /** Inbound: the caller's channel. Outbound: the leg dialled towards the customer. */
  customerChannel: string | undefined;
  /** Outbound: the agent's channel that entered the outbound context. */
  originChannel: string | undefined;
  placingExt: string | undefined;
  /** Bitrix24 knows the call (register emitted, or CALL_ID bound by click-to-call). */
  registered: boolean;
  clickToCall: boolean;
  /** Ring legs by the member channel's Uniqueid. */
  ringing: Map<string, RingLeg>;
  /**
   * Legs that stopped ringing unanswered, kept until their Hangup: Asterisk sends DialEnd before the leg's Hangup,
   * and only the Hangup's Cause tells a rejected call (21) apart. Bounded; forgotten with the call.
   */
  endedRings: Map<string, RingLeg>;
  /** Attended transfer: consultation legs the target answered; their card stays open until the transfer or hangup. */
  consults: Map<string, RingLeg>;
  /**
   * Asterisk's own attended transfer (Atxfer): the channels the transfer feature created to consult from
   * (`Local/<number>@<context>;1`, with this call's Linkedid). The consultation rings behind one; when it joins the
   * customer's bridge, the transfer is complete and the target answered behind it takes the customer.
   */
  consultLines: string[];
  /** Users whose card is open. */
  cards: Set<number>;
  answeredAt: number | undefined;
  /**
   * The answer happened while the daemon was blind (a resync found the call answered): somewhere from `from` (the
   * estimate in `answeredAt`) to `to`, by `ext`. Better evidence may still narrow it (blind-estimate.ts).
   */
  answeredWithin?: { from: number; to: number; ext: string };
  /** The agent who talked last, and the channel they talk on. */
  talkingExt: string | undefined;
  talkingChannel: string | undefined;
  queue: string | undefined;
  /** Outcome of the most recent dial towards an agent or the customer, for the finish status. */
  lastDialStatus: string | undefined;
  lastAgentHangupCause: number | undefined;
  originateFailure: FinishStatus | undefined;
  recordingPath: string | undefined;
  /** The path came from the admin's own variable (recordings.pathVariable): MixMonitor's may not replace it. */
  recordingFromPathVariable?: boolean;
  /** The channel whose variable named the recording: MixMonitor's r() (and a D file's first channel) is that party's voice. */
  recordingChannel?: string;
  rungExtensions: Set<string>;
  /** Every agent who talked, in order (transfers add more). */
  talkedExts: string[];
  transfers: string[];
  queueJoinedAt: number | undefined;
  queueLeftAt: number | undefined;
}

export function newCall(linkedid: string, at: number): Call {
  return {
    linkedid,
    phase: 'tracking',
    direction: undefined,
    startedAt: at,
    channels: new Set(),
    phoneNumber: '',
    lineNumber: '',
    customerChannel: undefined,
    originChannel: undefined,
    placingExt: undefined,
    registered: false,
    clickToCall: false,
    ringing: new Map(),
    endedRings: new Map(),
    consults: new Map(),
    consultLines: [],
    cards: new Set(),
    answeredAt: undefined,
    talkingExt: undefined,
    talkingChannel: undefined,
    queue: undefined,
    lastDialStatus: undefined,
    lastAgentHangupCause: undefined,
    originateFailure: undefined,
    recordingPath: undefined,
    rungExtensions: new Set(),
    talkedExts: [],
    transfers: [],
    queueJoinedAt: undefined,
    queueLeftAt: undefined,
  };
}
