import type { CrmBinding } from './effects.js';

/**
 * Normalized domain events: what the core understands, independent of AMI spelling.
 * Every input carries `at` (ms since epoch) from the AMI Timestamp header, so a trace replays identically.
 */

export interface ChannelSnapshot {
  uniqueid: string;
  linkedid: string;
  /** Channel name, e.g. PJSIP/101-00000001 or Local/101@agents-00000001;1 */
  name: string;
  context: string;
  exten: string;
  callerIdNum: string;
  callerIdName: string;
}

interface Base {
  at: number;
}

export type DialStatus = 'ANSWER' | 'BUSY' | 'NOANSWER' | 'CANCEL' | 'CONGESTION' | 'CHANUNAVAIL' | 'ABORT' | 'CONTINUE' | 'GOTO' | string;

export type CoreInput =
  | (Base & { kind: 'channel'; channel: ChannelSnapshot })
  | (Base & { kind: 'hangup'; channel: ChannelSnapshot; cause: number })
  | (Base & { kind: 'dialBegin'; caller?: ChannelSnapshot; dest: ChannelSnapshot })
  | (Base & { kind: 'dialEnd'; caller?: ChannelSnapshot; dest: ChannelSnapshot; status: DialStatus })
  | (Base & { kind: 'agentCalled'; queue: string; iface: string; caller: ChannelSnapshot; dest: ChannelSnapshot })
  | (Base & { kind: 'agentRingNoAnswer'; queue: string; iface: string; caller: ChannelSnapshot; dest: ChannelSnapshot; ringTimeMs: number })
  | (Base & { kind: 'agentConnect'; queue: string; iface: string; caller: ChannelSnapshot; dest: ChannelSnapshot })
  | (Base & { kind: 'agentComplete'; queue: string; iface: string; caller: ChannelSnapshot; reason: string })
  | (Base & { kind: 'queueJoin'; queue: string; caller: ChannelSnapshot })
  | (Base & { kind: 'queueLeave'; queue: string; caller: ChannelSnapshot })
  | (Base & { kind: 'queueAbandon'; queue: string; caller: ChannelSnapshot })
  | (Base & { kind: 'bridgeEnter'; bridgeId: string; channel: ChannelSnapshot })
  | (Base & { kind: 'bridgeLeave'; bridgeId: string; channel: ChannelSnapshot })
  | (Base & {
      kind: 'transfer';
      type: 'blind' | 'attended';
      ok: boolean;
      /** Blind: the transferer. Attended: OrigTransferer, the agent's channel towards the transferee. */
      transferer?: ChannelSnapshot;
      /** Attended: SecondTransferer, the agent's channel towards the target (the consultation). */
      secondTransferer?: ChannelSnapshot;
      /** Attended: TransferTarget, the target's channel. */
      targetChannel?: ChannelSnapshot;
      target: string;
    })
  | (Base & { kind: 'varSet'; channel: ChannelSnapshot; variable: string; value: string })
  /**
   * The bridge rings `ext` first, then `number`. With `callId`, Bitrix24 already registered the call
   * (ONEXTERNALCALLSTART): reuse it, never register again. Without, it is a callback (ONEXTERNALCALLBACKSTART) that
   * the core registers like any call, TYPE 4, for `userId`, on `lineNumber`, bound to the form's `crmEntity`.
   * `card: false`: show no card (the call is about to be finished as failed, e.g. Asterisk is down).
   */
  | (Base & {
      kind: 'clickToCall';
      linkedid: string;
      callId?: string;
      ext: string;
      userId: number;
      number: string;
      card?: false;
      lineNumber?: string;
      crmEntity?: CrmBinding;
    })
  /** The originate of a click-to-call failed before any channel existed (OriginateResponse Failure). */
  | (Base & { kind: 'originateFailed'; linkedid: string; reason: number })
  /**
   * After an AMI reconnect or a restart: the channels Asterisk has now (CoreShowChannels). Only `known`
   * (channels tracked when the list was asked for) can be declared gone: events may race the answer.
   */
  | (Base & { kind: 'resync'; live: ChannelSnapshot[]; known: string[] })
  /**
   * The extension -> Bitrix24 user map changed (loaded from the portal, or the config was reloaded): the whole map,
   * which replaces the one the core had. The core keeps it in its state and snapshot, so a replay and a restart
   * name the same users as the live run did.
   */
  | (Base & { kind: 'userMap'; extensions: Readonly<Record<string, number>> });

export type CoreInputKind = CoreInput['kind'];
