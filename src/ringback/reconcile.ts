import { pauseVerdict, type ChangeBook, type Verdict } from './changes.js';
import { changeKey, cooldownMs, memberKey, type Observed } from './ledger.js';
import type { RingBackChange, RingBackInput } from './types.js';

/**
 * Reconcile: hold what we recorded against a complete QueueStatus, after a start, a reconnect, an Asterisk
 * restart or a queue reload (a reload resets penalties and erases a pause's reason, without any event).
 * Undo what is due, re-arm the rest, forget what someone else has changed since, and adopt pauses that carry
 * our reason but are missing from our records: nobody is left paused by us with nobody to unpause them.
 */

type Snapshot = Extract<RingBackInput, { kind: 'reconcile' }>;

export function reconcile(book: ChangeBook, input: Snapshot): void {
  const { ledger } = book;
  const present = new Set<string>();
  for (const m of input.members) {
    const key = memberKey(m.queue, m.iface);
    present.add(key);
    // An event that came after the QueueStatus was asked for is newer than the snapshot.
    if ((ledger.observed.get(key)?.at ?? -Infinity) >= input.requestedAt) continue;
    ledger.observed.set(key, { paused: m.paused, reason: m.reason, penalty: m.penalty, at: input.requestedAt });
  }
  for (const c of [...ledger.changes.values()]) judge(book, c, present, input);
  adoptOrphans(book, input);
  if (ledger.pruneStrikes(input.at, book.cfg)) book.out.dirty();
}

function judge(book: ChangeBook, c: RingBackChange, present: Set<string>, input: Snapshot): void {
  // Sent after the QueueStatus was asked for: the snapshot cannot show it yet.
  if (c.changedAt >= input.requestedAt) return;
  const mk = memberKey(c.queue, c.iface);
  if (!present.has(mk)) return book.forget(c, 'forgotten', 'info', 'memberGone', 'not in QueueStatus any more');
  const seen = book.ledger.observed.get(mk) ?? { at: 0 };
  const verdict = c.policy === 'pause' ? pauseVerdict(book, c, seen) : penaltyVerdict(c, seen);
  if (verdict === 'released') {
    if (c.phase === 'undoing') return book.finishUndo(c, input.at);
    // e.g. an Asterisk restart brought a static member back unpaused, or a reload reset the penalty.
    const detail = c.phase === 'applying' ? 'the change never took hold' : 'undone by someone or something else';
    return book.forget(c, 'forgotten', 'info', c.policy === 'pause' ? 'unpausedByOther' : 'penaltyChangedByOther', detail);
  }
  if (verdict === 'takenOver') {
    const now = c.policy === 'pause' ? `paused with reason "${seen.reason ?? ''}"` : `penalty is ${seen.penalty ?? '?'}`;
    return book.forget(c, 'forgotten', 'info', c.policy === 'pause' ? 'pausedByOther' : 'penaltyChangedByOther', now);
  }
  if (c.phase === 'undoing') {
    book.unverified.delete(changeKey(c.policy, c.queue, c.iface));
    return book.sendUndo(c);
  }
  book.confirm(c);
  if (c.until <= input.at) book.undo(c, 'cooldownOver', input.at);
  else book.arm(c);
}

function penaltyVerdict(c: RingBackChange, seen: Observed): Verdict {
  if (seen.penalty === c.raisedTo) return 'ours';
  return seen.penalty === c.restoreTo ? 'released' : 'takenOver';
}

function adoptOrphans(book: ChangeBook, input: Snapshot): void {
  const base = cooldownMs(0, book.cfg);
  for (const m of input.members) {
    if (!m.paused || m.reason !== book.cfg.reason || book.get('pause', m.queue, m.iface) !== undefined) continue;
    const seen = book.ledger.observed.get(memberKey(m.queue, m.iface));
    if (seen?.paused !== true || seen.reason !== book.cfg.reason) continue; // a newer event says otherwise
    // LastPause is when it began (Asterisk's clock, seconds); unknown means it is due now.
    const until = m.lastPauseAt > 0 ? Math.min(m.lastPauseAt + base, input.at + base) : input.at;
    book.adopt(m.queue, m.iface, m.memberName, input.at, until, 'foundAtReconcile');
  }
}

/** Shutdown for good: undo every change we hold and have verified. */
export function release(book: ChangeBook, at: number): void {
  for (const c of [...book.ledger.changes.values()]) {
    if (!book.isVerified(c)) continue;
    if (c.phase === 'undoing') book.sendUndo(c);
    else book.undo(c, 'shutdown', at);
  }
}
