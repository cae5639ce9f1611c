/** The simulator's queue model: enough of app_queue for the bridge's actions, with Asterisk's reply texts. */
import type { AmiMessage } from '../../ami/types.js';
import { header } from './messages.js';

export interface SimQueueState {
  /** `Event: QueueParams` items, one per queue. */
  params: AmiMessage[];
  /** `Event: QueueMember` items (Queue, Name, Location, Membership, Penalty, Paused, PausedReason...). */
  members: AmiMessage[];
}

/** What a queue action answers: success, Asterisk's Message text, and the events it broadcasts. */
export type QueueChange = [success: boolean, message: string, events: AmiMessage[]];

const isTrue = (v: string | undefined): boolean => /^(yes|true|y|t|1|on)$/i.test(v ?? '');

export function cloneQueueState(state: SimQueueState | undefined): SimQueueState | undefined {
  return state && { params: state.params.map((p) => ({ ...p })), members: state.members.map((m) => ({ ...m })) };
}

export function queueStatusItems(state: SimQueueState | undefined, queue?: string, member?: string): AmiMessage[] {
  const items: AmiMessage[] = [];
  for (const p of state?.params ?? []) {
    if (queue && p['Queue'] !== queue) continue;
    items.push({ Event: 'QueueParams', ...p });
    for (const m of state?.members ?? []) {
      if (m['Queue'] !== p['Queue'] || (member && m['Location'] !== member && m['Name'] !== member)) continue;
      items.push({ Event: 'QueueMember', ...m });
    }
  }
  return items;
}

export function queueSummaryItems(state: SimQueueState | undefined, queue?: string): AmiMessage[] {
  return (state?.params ?? [])
    .filter((p) => !queue || p['Queue'] === queue)
    .map((p) => {
      const members = (state?.members ?? []).filter((m) => m['Queue'] === p['Queue']);
      // app_queue: logged in = not unavailable(5)/invalid(4); available = not in use(1) or unknown(0), and not paused.
      const loggedIn = members.filter((m) => m['Status'] !== '5' && m['Status'] !== '4');
      const available = loggedIn.filter((m) => (m['Status'] === '1' || m['Status'] === '0') && m['Paused'] !== '1');
      return {
        Event: 'QueueSummary',
        Queue: p['Queue'] ?? '',
        LoggedIn: String(loggedIn.length),
        Available: String(available.length),
        Callers: header(p, 'Calls') ?? '0',
        HoldTime: header(p, 'Holdtime') ?? '0',
        TalkTime: header(p, 'TalkTime') ?? '0',
        LongestHoldTime: '0',
      };
    });
}

export function queueChange(state: SimQueueState | undefined, action: string, a: AmiMessage): QueueChange {
  const queue = header(a, 'Queue') || undefined;
  const iface = header(a, 'Interface') || undefined;
  const now = String(Math.floor(Date.now() / 1000));
  const targets = (state?.members ?? []).filter((m) => m['Location'] === iface && (!queue || m['Queue'] === queue));
  const queueKnown = (state?.params ?? []).some((p) => p['Queue'] === queue);
  switch (action) {
    case 'queuepause': {
      const pausedText = header(a, 'Paused');
      if (!iface || pausedText === undefined) return [false, "Need 'Interface' and 'Paused' parameters.", []];
      const paused = isTrue(pausedText);
      if (state && targets.length === 0) return [false, 'Interface not found', []];
      for (const m of targets) {
        m['Paused'] = paused ? '1' : '0';
        m['PausedReason'] = paused ? (header(a, 'Reason') ?? '') : '';
        if (paused) m['LastPause'] = now;
      }
      const message = paused ? 'Interface paused successfully' : 'Interface unpaused successfully';
      return [true, message, targets.map((m) => memberEvent('QueueMemberPause', m))];
    }
    case 'queuepenalty': {
      const penalty = Number.parseInt(header(a, 'Penalty') ?? '', 10);
      if (!iface || header(a, 'Penalty') === undefined) return [false, "Need 'Interface' and 'Penalty' parameters.", []];
      if (!(penalty >= 0) || (state && targets.length === 0)) return [false, 'Invalid interface, queuename or penalty', []];
      for (const m of targets) m['Penalty'] = String(penalty);
      return [true, 'Interface penalty set successfully', targets.map((m) => memberEvent('QueueMemberPenalty', m))];
    }
    case 'queueadd': {
      if (!queue) return [false, "'Queue' not specified.", []];
      if (!iface) return [false, "'Interface' not specified.", []];
      if (!state) return [true, 'Added interface to queue', []];
      if (!queueKnown) return [false, 'Unable to add interface to queue: No such queue', []];
      if (targets.length > 0) return [false, 'Unable to add interface: Already there', []];
      const paused = isTrue(header(a, 'Paused'));
      const member: AmiMessage = {
        Queue: queue,
        Name: header(a, 'MemberName') ?? iface,
        Location: iface,
        StateInterface: header(a, 'StateInterface') ?? iface,
        Membership: 'dynamic',
        Penalty: header(a, 'Penalty') ?? '0',
        CallsTaken: '0',
        LastCall: '0',
        LastPause: '0',
        LoginTime: now,
        InCall: '0',
        Status: '1',
        Paused: paused ? '1' : '0',
        PausedReason: paused ? (header(a, 'Reason') ?? '') : '',
        Wrapuptime: '0',
      };
      state.members.unshift(member); // the recorded Asterisk listed the new member first
      return [true, 'Added interface to queue', [memberEvent('QueueMemberAdded', member)]];
    }
    default: {
      if (!queue || !iface) return [false, "Need 'Queue' and 'Interface' parameters.", []];
      if (!state) return [true, 'Removed interface from queue', []];
      if (!queueKnown) return [false, 'Unable to remove interface from queue: No such queue', []];
      const member = targets[0];
      if (member === undefined) return [false, 'Unable to remove interface: Not there', []];
      if (member['Membership'] !== 'dynamic') return [false, 'Member not dynamic', []];
      state.members.splice(state.members.indexOf(member), 1);
      return [true, 'Removed interface from queue', [memberEvent('QueueMemberRemoved', member)]];
    }
  }
}

/** Queue member events name the member fields differently from QueueStatus (Interface vs Location). */
function memberEvent(event: string, m: AmiMessage): AmiMessage {
  const f = (k: string) => header(m, k) ?? '';
  return {
    Event: event,
    Privilege: 'agent,all',
    Timestamp: (Date.now() / 1000).toFixed(6),
    Queue: f('Queue'),
    MemberName: f('Name'),
    Interface: f('Location'),
    StateInterface: f('StateInterface'),
    Membership: f('Membership'),
    Penalty: f('Penalty'),
    CallsTaken: f('CallsTaken'),
    LastCall: f('LastCall'),
    LastPause: f('LastPause'),
    LoginTime: f('LoginTime'),
    InCall: f('InCall'),
    Status: f('Status'),
    Paused: f('Paused'),
    PausedReason: f('PausedReason'),
    Ringinuse: '0',
    Wrapuptime: f('Wrapuptime'),
  };
}
