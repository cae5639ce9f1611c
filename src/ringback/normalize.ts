import { field, type AmiMessage } from '../ami/types.js';
import { eventTime } from '../core/normalize.js';
import type { MemberSnapshot, QueueInfo, RingBackInput } from './types.js';

/**
 * AMI messages -> ring-back inputs. Pure. Events without the fields we need give undefined.
 * Member events say MemberName/Interface; QueueStatus list items say Name/Location (same data, other names).
 */

export interface NormalizeOptions {
  /**
   * 'ami' (default): `at` from the Timestamp header, as the core does; a recorded trace replays identically.
   * 'received': `at` = receivedAt. The service uses this: its timers and the persisted deadlines run on the
   * daemon's clock, and a pause must be undone on time even when Asterisk's clock is off.
   */
  time?: 'ami' | 'received';
}

export function normalizeRingBack(msg: AmiMessage, receivedAt: number, opts: NormalizeOptions = {}): RingBackInput | undefined {
  const name = field(msg, 'Event');
  if (name === undefined) return undefined;
  const at = opts.time === 'received' ? receivedAt : eventTime(msg, receivedAt);
  if (name === 'QueueParams') {
    const q = queueInfo(msg);
    return q && { kind: 'queueParams', at, ...q };
  }
  if (name === 'QueueMemberAdded') {
    const member = memberSnapshot(msg, 'MemberName', 'Interface');
    return member && { kind: 'memberAdded', at, member };
  }
  const queue = field(msg, 'Queue');
  const iface = field(msg, 'Interface');
  if (!queue || !iface) return undefined;
  const memberName = field(msg, 'MemberName') ?? '';
  switch (name) {
    case 'AgentRingNoAnswer':
      return { kind: 'ringNoAnswer', at, queue, iface, memberName, ringTimeMs: toInt(field(msg, 'RingTime')) };
    case 'AgentConnect':
      return { kind: 'agentConnect', at, queue, iface, memberName };
    case 'QueueMemberPause': {
      const penalty = field(msg, 'Penalty');
      const paused = isOne(field(msg, 'Paused'));
      const reason = pausedReason(msg);
      return { kind: 'memberPause', at, queue, iface, memberName, paused, reason, ...(penalty ? { penalty: toInt(penalty) } : {}) };
    }
    case 'QueueMemberPenalty':
      return { kind: 'memberPenalty', at, queue, iface, memberName, penalty: toInt(field(msg, 'Penalty')) };
    case 'QueueMemberRemoved':
      return { kind: 'memberRemoved', at, queue, iface, memberName };
    default:
      return undefined;
  }
}

/** A complete QueueStatus answer (its list events) -> queues with their strategy and every member. */
export function readQueueStatus(events: readonly AmiMessage[]): { queues: QueueInfo[]; members: MemberSnapshot[] } {
  const queues: QueueInfo[] = [];
  const members: MemberSnapshot[] = [];
  for (const e of events) {
    const name = field(e, 'Event');
    if (name === 'QueueParams') {
      const q = queueInfo(e);
      if (q) queues.push(q);
    } else if (name === 'QueueMember') {
      const m = memberSnapshot(e, 'Name', 'Location');
      if (m) members.push(m);
    }
  }
  return { queues, members };
}

/** Events after which queue state must be read again: a (re)boot, or a reload that may reset penalties/reasons. */
export function needsReconcile(msg: AmiMessage): boolean {
  const name = field(msg, 'Event');
  if (name === 'FullyBooted') return true;
  if (name !== 'Reload') return false;
  const module = (field(msg, 'Module') ?? '').toLowerCase();
  return module === 'all' || module.startsWith('app_queue');
}

function queueInfo(msg: AmiMessage): QueueInfo | undefined {
  const queue = field(msg, 'Queue');
  const strategy = field(msg, 'Strategy');
  return queue && strategy ? { queue, strategy: strategy.toLowerCase() } : undefined;
}

function memberSnapshot(msg: AmiMessage, nameKey: string, ifaceKey: string): MemberSnapshot | undefined {
  const queue = field(msg, 'Queue');
  const iface = field(msg, ifaceKey);
  if (!queue || !iface) return undefined;
  const lastPause = toInt(field(msg, 'LastPause'));
  return {
    queue,
    iface,
    memberName: field(msg, nameKey) ?? '',
    paused: isOne(field(msg, 'Paused')),
    reason: pausedReason(msg),
    penalty: toInt(field(msg, 'Penalty')),
    lastPauseAt: lastPause > 0 ? lastPause * 1000 : 0,
  };
}

/** PausedReason (Asterisk 13+); `Reason` on 13-17 only, removed in 18. */
function pausedReason(msg: AmiMessage): string {
  return field(msg, 'PausedReason') ?? field(msg, 'Reason') ?? '';
}

function isOne(v: string | undefined): boolean {
  return v === '1' || v?.toLowerCase() === 'true';
}

function toInt(v: string | undefined): number {
  const n = Number.parseInt(v ?? '', 10);
  return Number.isFinite(n) ? n : 0;
}
