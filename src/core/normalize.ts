import { field, type AmiMessage } from '../ami/types.js';
import type { ChannelSnapshot, CoreInput, LiveChannel, MemberLastCall } from './events.js';

/**
 * AMI message -> domain event. Pure. Unknown events and events without the fields we need give undefined:
 * an event we cannot use is never an error.
 */

/** `Timestamp: 1795263470.009123` (timestampevents=yes) in ms, else the receive time. */
export function eventTime(msg: AmiMessage, receivedAt: number): number {
  const ts = field(msg, 'Timestamp');
  if (ts !== undefined) {
    const n = Number(ts);
    if (Number.isFinite(n) && n > 0) return Math.round(n * 1000);
  }
  return receivedAt;
}

function unknownToEmpty(v: string | undefined): string {
  return v === undefined || v === '<unknown>' ? '' : own(v);
}

/**
 * A copy of a header value that does not keep the whole socket chunk alive. The framer's values are slices of
 * the chunk string they came in; V8 keeps the parent of any slice of 13+ characters, so one channel name kept by
 * the core pinned a 64 KiB chunk (bench/diag/soak-retention.ts measured 57.7 MB of heap against 18.1 MB).
 * Concatenating flattens into a fresh string; the slice then points at that copy, not at the chunk.
 */
export function own(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
}

/** A channel snapshot, optionally with a prefix (Dest, Transferer...). Undefined when the snapshot is absent. */
export function snapshot(msg: AmiMessage, prefix = ''): ChannelSnapshot | undefined {
  const uniqueid = field(msg, `${prefix}Uniqueid`);
  const name = field(msg, `${prefix}Channel`);
  if (!uniqueid || !name) return undefined;
  return {
    uniqueid: own(uniqueid),
    linkedid: own(field(msg, `${prefix}Linkedid`) || uniqueid),
    name: own(name),
    context: own(field(msg, `${prefix}Context`) ?? ''),
    exten: own(field(msg, `${prefix}Exten`) ?? ''),
    callerIdNum: unknownToEmpty(field(msg, `${prefix}CallerIDNum`)),
    callerIdName: unknownToEmpty(field(msg, `${prefix}CallerIDName`)),
  };
}

/** AST_STATE_UP: the channel was answered (ChannelState in every channel snapshot). */
const STATE_UP = '6';

/** One item of CoreShowChannels' answer (Event: CoreShowChannel); undefined without a channel. */
export function liveChannel(msg: AmiMessage): LiveChannel | undefined {
  const snap = snapshot(msg);
  if (!snap) return undefined;
  const bridgeId = field(msg, 'BridgeId');
  return { ...snap, up: field(msg, 'ChannelState') === STATE_UP, ...(bridgeId !== undefined ? { bridgeId: own(bridgeId) } : {}) };
}

/** One QueueMember item of QueueStatus with a last call (`LastCall` 0: none since Asterisk started). */
export function memberLastCall(msg: AmiMessage): MemberLastCall | undefined {
  const queue = field(msg, 'Queue');
  const iface = field(msg, 'Location') ?? field(msg, 'Interface');
  const lastCall = Number(field(msg, 'LastCall'));
  if (!queue || !iface || !Number.isSafeInteger(lastCall) || lastCall <= 0) return undefined;
  return { queue: own(queue), iface: own(iface), endedAt: lastCall * 1000 };
}

/** Events whose channel snapshot keeps our view of context/exten/caller ID fresh. */
const CHANNEL_EVENTS = new Set(['Newchannel', 'Newstate', 'Newexten', 'NewCallerid', 'NewConnectedLine', 'MixMonitorStart', 'Hold', 'Unhold']);

/** Channel variables the core cares about; every other VarSet is dropped here, cheaply. */
const VARIABLES = new Set(['MIXMONITOR_FILENAME']);

export function normalize(msg: AmiMessage, receivedAt: number, extraVariables?: ReadonlySet<string>): CoreInput | undefined {
  const name = field(msg, 'Event');
  if (name === undefined) return undefined;
  const at = eventTime(msg, receivedAt);
  switch (name) {
    case 'Hangup': {
      const channel = snapshot(msg);
      return channel && { kind: 'hangup', at, channel, cause: Number(field(msg, 'Cause') ?? 0) || 0 };
    }
    case 'DialBegin': {
      const dest = snapshot(msg, 'Dest');
      return dest && { kind: 'dialBegin', at, caller: snapshot(msg), dest };
    }
    case 'DialEnd': {
      const dest = snapshot(msg, 'Dest');
      return dest && { kind: 'dialEnd', at, caller: snapshot(msg), dest, status: field(msg, 'DialStatus') ?? '' };
    }
    case 'AgentCalled':
    case 'AgentConnect':
    case 'AgentRingNoAnswer': {
      const caller = snapshot(msg);
      const dest = snapshot(msg, 'Dest');
      const queue = field(msg, 'Queue');
      const iface = field(msg, 'Interface');
      if (!caller || !dest || !queue || !iface) return undefined;
      if (name === 'AgentCalled') return { kind: 'agentCalled', at, queue: own(queue), iface: own(iface), caller, dest };
      if (name === 'AgentConnect') return { kind: 'agentConnect', at, queue, iface, caller, dest };
      return { kind: 'agentRingNoAnswer', at, queue, iface, caller, dest, ringTimeMs: Number(field(msg, 'RingTime') ?? 0) || 0 };
    }
    case 'AgentComplete': {
      const caller = snapshot(msg);
      const queue = field(msg, 'Queue');
      const iface = field(msg, 'Interface');
      if (!caller || !queue || !iface) return undefined;
      const talkTime = field(msg, 'TalkTime');
      const talkSec = talkTime ? Number(talkTime) : NaN;
      const talk = Number.isSafeInteger(talkSec) && talkSec >= 0 ? { talkSec } : {};
      return { kind: 'agentComplete', at, queue, iface, caller, reason: field(msg, 'Reason') ?? '', ...talk };
    }
    case 'QueueCallerJoin':
    case 'QueueCallerLeave':
    case 'QueueCallerAbandon': {
      const caller = snapshot(msg);
      const queue = field(msg, 'Queue');
      if (!caller || !queue) return undefined;
      const kind = name === 'QueueCallerJoin' ? 'queueJoin' : name === 'QueueCallerLeave' ? 'queueLeave' : 'queueAbandon';
      return { kind, at, queue: own(queue), caller };
    }
    case 'BridgeEnter':
    case 'BridgeLeave': {
      const channel = snapshot(msg);
      const bridgeId = field(msg, 'BridgeUniqueid');
      if (!channel || !bridgeId) return undefined;
      return { kind: name === 'BridgeEnter' ? 'bridgeEnter' : 'bridgeLeave', at, bridgeId: own(bridgeId), channel };
    }
    case 'BlindTransfer':
      return {
        kind: 'transfer',
        at,
        type: 'blind',
        ok: field(msg, 'Result') === 'Success',
        transferer: snapshot(msg, 'Transferer'),
        target: field(msg, 'Extension') ?? '',
      };
    case 'AttendedTransfer':
      return {
        kind: 'transfer',
        at,
        type: 'attended',
        ok: field(msg, 'Result') === 'Success',
        transferer: snapshot(msg, 'OrigTransferer'),
        secondTransferer: snapshot(msg, 'SecondTransferer'),
        targetChannel: snapshot(msg, 'TransferTarget'),
        target: own(field(msg, 'TransferTargetChannel') ?? unknownToEmpty(field(msg, 'SecondTransfererConnectedLineNum'))),
      };
    case 'VarSet': {
      const variable = field(msg, 'Variable') ?? '';
      if (!VARIABLES.has(variable) && !extraVariables?.has(variable)) return undefined;
      const channel = snapshot(msg);
      return channel && { kind: 'varSet', at, channel, variable, value: own(field(msg, 'Value') ?? '') };
    }
    default: {
      if (!CHANNEL_EVENTS.has(name)) return undefined;
      const channel = snapshot(msg);
      return channel && { kind: 'channel', at, channel };
    }
  }
}
