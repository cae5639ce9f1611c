import type { AmiMessage } from '../../src/ami/types.js';

/**
 * Synthetic queue calls as Asterisk 22 reports them, modelled on the support_ringall_answer trace: the caller's
 * Newchannel in [incoming], QueueCallerJoin, then per ringing member AgentCalled + DialBegin (same headers and
 * order as the trace), and Hangups to end. Fresh ids for every call, so thousands can run in one bridge.
 * Timestamps are the current time, as with `timestampevents = yes`.
 */

export interface Member {
  ext: string;
  uniqueid: string;
  channel: string;
}

export interface SyntheticCall {
  linkedid: string;
  channel: string;
  phone: string;
  queue: string;
  members: Member[];
}

const EPOCH = Math.floor(Date.now() / 1000);
let nextId = 0;
let nextChannel = 0x100;
let nextPhone = 0;
const PHONES = 100;

const ts = (): string => (Date.now() / 1000).toFixed(6);
const uniqueid = (): string => `${EPOCH}.${nextId++}`;
const suffix = (): string => (nextChannel++).toString(16).padStart(8, '0');

export function newCall(queue: string, exts: readonly string[]): SyntheticCall {
  const linkedid = uniqueid();
  // 100 callers in turn. Each call still is its own (the bridge sends EXTERNAL_CALL_ID = Linkedid, so the portal never
  // merges two); a known number finds its lead instead of creating one, which keeps the emulator's CRM search (a scan
  // of every lead, on every register) from growing with the run and ending up in the measured time.
  const phone = `7495${String(nextPhone++ % PHONES).padStart(7, '0')}`;
  return {
    linkedid,
    channel: `PJSIP/trunk-${suffix()}`,
    phone,
    queue,
    members: exts.map((ext) => ({ ext, uniqueid: uniqueid(), channel: `Local/${ext}@agents-${suffix()};1` })),
  };
}

function callerSnapshot(c: SyntheticCall, state: '4' | '6', priority: string): AmiMessage {
  return {
    Channel: c.channel,
    ChannelState: state,
    ChannelStateDesc: state === '4' ? 'Ring' : 'Up',
    CallerIDNum: c.phone,
    CallerIDName: `Customer ${c.phone}`,
    ConnectedLineNum: '<unknown>',
    ConnectedLineName: '<unknown>',
    Language: 'en',
    AccountCode: '',
    Context: 'incoming',
    Exten: c.queue,
    Priority: priority,
    Uniqueid: c.linkedid,
    Linkedid: c.linkedid,
  };
}

function destSnapshot(c: SyntheticCall, m: Member, exten: string): AmiMessage {
  return {
    DestChannel: m.channel,
    DestChannelState: '0',
    DestChannelStateDesc: 'Down',
    DestCallerIDNum: c.phone,
    DestCallerIDName: 'Customer',
    DestConnectedLineNum: c.phone,
    DestConnectedLineName: `Customer ${c.phone}`,
    DestLanguage: 'en',
    DestAccountCode: '',
    DestContext: 'agents',
    DestExten: exten,
    DestPriority: '1',
    DestUniqueid: m.uniqueid,
    DestLinkedid: c.linkedid,
  };
}

/** Newchannel + QueueCallerJoin: the call exists and waits in the queue (no card yet). */
export function callStart(c: SyntheticCall): AmiMessage[] {
  return [
    { Event: 'Newchannel', Privilege: 'call,all', Timestamp: ts(), ...callerSnapshot(c, '4', '1') },
    { Event: 'QueueCallerJoin', Privilege: 'agent,all', Timestamp: ts(), ...callerSnapshot(c, '6', '7'), Queue: c.queue, Position: '1', Count: '1' },
  ];
}

/** A member starts ringing: the event the card pops on. */
export function agentCalled(c: SyntheticCall, m: Member): AmiMessage {
  return {
    Event: 'AgentCalled',
    Privilege: 'agent,all',
    Timestamp: ts(),
    ...callerSnapshot(c, '6', '7'),
    ...destSnapshot(c, m, c.queue),
    Queue: c.queue,
    Interface: `Local/${m.ext}@agents/n`,
    MemberName: `Agent ${m.ext}`,
  };
}

export function dialBegin(c: SyntheticCall, m: Member): AmiMessage {
  return { Event: 'DialBegin', Privilege: 'call,all', Timestamp: ts(), ...callerSnapshot(c, '6', '7'), ...destSnapshot(c, m, m.ext), DialString: `Local/${m.ext}@agents/n` };
}

/** Every member's leg hangs up unanswered, then the caller: the call ends as missed. */
export function callEnd(c: SyntheticCall): AmiMessage[] {
  const out: AmiMessage[] = [];
  for (const m of c.members) {
    out.push({
      Event: 'Hangup',
      Privilege: 'call,all',
      Timestamp: ts(),
      Channel: m.channel,
      ChannelState: '5',
      ChannelStateDesc: 'Ringing',
      CallerIDNum: c.phone,
      CallerIDName: 'Customer',
      Context: 'agents',
      Exten: m.ext,
      Priority: '1',
      Uniqueid: m.uniqueid,
      Linkedid: c.linkedid,
      Cause: '26',
      'Cause-txt': 'Answered elsewhere',
    });
  }
  out.push({
    Event: 'Hangup',
    Privilege: 'call,all',
    Timestamp: ts(),
    ...callerSnapshot(c, '6', '7'),
    Cause: '16',
    'Cause-txt': 'Normal Clearing',
  });
  return out;
}
