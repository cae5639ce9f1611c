import type { ParkedEntry } from '../bitrix/outbox-entry.js';
import type { CallJson } from '../core/snapshot.js';
import { scrubLine } from '../obs/logger.js';
import type { RingBackChange } from '../ringback/types.js';
import type { StatusCall, StatusPerson, StatusSnapshot } from './types.js';

/**
 * The live view's state from what the daemon's parts hold, as plain JSON. Pure: no clock, no I/O, so a test builds
 * it from data. Fields are picked one by one (never a part's object spread in), and every free text (errors,
 * problems) goes through the logger's scrubber: no webhook code, token or password can reach the page.
 */

export interface StatusInput {
  now: number;
  ami: StatusSnapshot['ami'];
  portal: Omit<StatusSnapshot['portal'], 'problem' | 'lastRefusal'> & {
    problem: string | undefined;
    lastRefusal: { at: number; method: string; code: string } | undefined;
  };
  /** The core's calls (tracker.exportCalls()). */
  calls: readonly CallJson[];
  callsTracked: number;
  /** Linkedid -> since when a channel of the call is on hold. */
  holds: ReadonlyMap<string, number>;
  /** Bitrix24 user -> extension and back (the user map). */
  extensionOf(userId: number): string | undefined;
  userOf(ext: string): number | undefined;
  /** A cached CRM answer for a number, never a request. */
  crmNameOf(number: string): string | undefined;
  setAside: readonly RingBackChange[];
  outbox: { depth: number; oldestCreatedAt: number | undefined; parked: readonly ParkedEntry[] };
  recordingsWaiting: number;
  /** undefined: transcripts are off. */
  transcriptsWaiting: number | undefined;
  errors: StatusSnapshot['errors'];
  tokenConfigured: boolean;
}

export function buildStatus(i: StatusInput): StatusSnapshot {
  return {
    version: 1,
    generatedAt: i.now,
    ami: { connected: i.ami.connected, asteriskVersion: text(i.ami.asteriskVersion), bootedAt: i.ami.bootedAt, since: i.ami.since },
    portal: {
      reachable: i.portal.reachable,
      problem: text(i.portal.problem),
      mode: i.portal.mode,
      token: i.portal.token,
      requestsLastMinute: i.portal.requestsLastMinute,
      budgetPerMinute: i.portal.budgetPerMinute,
      burst: i.portal.burst,
      lastRefusal: i.portal.lastRefusal ? { at: i.portal.lastRefusal.at, method: i.portal.lastRefusal.method, code: i.portal.lastRefusal.code } : null,
    },
    calls: i.calls
      .filter((c) => c.phase === 'ringing' || c.phase === 'talking')
      .sort((a, b) => a.startedAt - b.startedAt)
      .map((c) => statusCall(c, i)),
    callsTracked: i.callsTracked,
    setAside: [...i.setAside]
      .sort((a, b) => a.changedAt - b.changedAt)
      .map((c) => ({
        queue: c.queue,
        iface: c.iface,
        member: c.memberName,
        policy: c.policy,
        phase: c.phase,
        since: c.changedAt,
        undoAt: c.until,
        penalty: c.raisedTo ?? null,
        restoreTo: c.restoreTo ?? null,
      })),
    outbox: {
      depth: i.outbox.depth,
      oldestCreatedAt: i.outbox.oldestCreatedAt ?? null,
      parked: [...i.outbox.parked]
        .sort((a, b) => a.seq - b.seq)
        .map((p) => ({ seq: p.seq, method: p.method, call: p.key, error: text(p.error) ?? '', parkedAt: p.parkedAt, dependsOn: p.dependsOn ?? null })),
    },
    recordings: { waiting: i.recordingsWaiting },
    transcripts: i.transcriptsWaiting === undefined ? null : { waiting: i.transcriptsWaiting },
    errors: i.errors.map((e) => ({ ...e, message: text(e.message) ?? '' })),
    actions: { tokenConfigured: i.tokenConfigured },
  };
}

function statusCall(c: CallJson, i: StatusInput): StatusCall {
  const heldSince = i.holds.get(c.linkedid);
  const talking = c.phase === 'talking';
  const state = talking && heldSince !== undefined ? 'onHold' : talking ? 'talking' : 'ringing';
  const since = state === 'onHold' ? heldSince! : talking ? (c.answeredAt ?? c.startedAt) : (c.queueJoinedAt ?? c.startedAt);
  const byUser = (userId: number): StatusPerson => ({ userId, ext: i.extensionOf(userId) ?? null });
  const byExt = (ext: string): StatusPerson => ({ ext, userId: i.userOf(ext) ?? null });
  return {
    linkedid: c.linkedid,
    direction: c.direction ?? null,
    number: c.phoneNumber,
    crmName: c.phoneNumber ? (text(i.crmNameOf(c.phoneNumber)) ?? null) : null,
    queue: c.queue ?? null,
    state,
    since,
    startedAt: c.startedAt,
    ringing: talking ? [] : uniqueBy(c.ringing.map(([, leg]) => (leg.userId !== undefined ? { ext: leg.ext, userId: leg.userId } : byExt(leg.ext)))),
    cards: [...c.cards].sort((a, b) => a - b).map(byUser),
    agent: talking && c.talkingExt !== undefined ? byExt(c.talkingExt) : null,
    registered: c.registered,
  };
}

/** One entry per extension: a member rung through two channels is one person. */
function uniqueBy(people: StatusPerson[]): StatusPerson[] {
  const seen = new Map<string, StatusPerson>();
  for (const p of people) if (!seen.has(p.ext ?? '')) seen.set(p.ext ?? '', p);
  return [...seen.values()].sort((a, b) => (a.ext ?? '').localeCompare(b.ext ?? ''));
}

function text(s: string | null | undefined): string | null {
  return s === undefined || s === null ? null : scrubLine(s);
}
