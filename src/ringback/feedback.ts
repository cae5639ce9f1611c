import type { ChangeBook } from './changes.js';
import { keyOf } from './changes.js';
import { cooldownMs, memberKey } from './ledger.js';
import type { RingBackInput } from './types.js';

/**
 * What Asterisk tells us about our changes: QueueMemberPause / QueueMemberPenalty events and action results.
 * Events trail responses and may arrive after later responses; anything published before our change took
 * hold is stale. So a change counts as standing only once its own event was seen (`applying` -> `active`),
 * and only then does a contrary event mean that someone else has changed the member.
 */

/** An undo that timed out while AMI stayed up is sent again after this. */
export const UNDO_RETRY_MS = 5000;

export function onMemberPause(book: ChangeBook, i: Extract<RingBackInput, { kind: 'memberPause' }>): void {
  const penalty = i.penalty === undefined ? {} : { penalty: i.penalty };
  book.ledger.observe(i.queue, i.iface, { paused: i.paused, reason: i.reason, ...penalty }, i.at);
  const c = book.get('pause', i.queue, i.iface);
  // Our change's own reason: the configured one may have changed since (SIGHUP, restart).
  const ours = i.paused && i.reason === (c === undefined ? book.cfg.reason : book.reasonOf(c));
  if (i.paused && !ours) pausedElsewhere(book, i);
  if (c === undefined) {
    if (ours) book.adopt(i.queue, i.iface, i.memberName, i.at, i.at + cooldownMs(0, book.cfg), 'foundInEvent');
    return;
  }
  if (!book.isVerified(c)) return; // the QueueStatus after start judges it
  if (c.phase === 'applying') {
    if (ours) book.confirm(c);
    // Their pause was applied before ours (events come in the order Asterisk applies them): ours landed on it.
    else if (i.paused) book.handBack(c, i.reason, i.at);
  } else if (c.phase === 'active') {
    if (ours) return;
    // A human, autopause or another tool: their pause (or unpause) now, hands off.
    if (i.paused) book.forget(c, 'forgotten', 'info', 'pausedByOther', `paused again with reason "${i.reason}"`);
    else book.forget(c, 'forgotten', 'info', 'unpausedByOther');
  } else if (!i.paused) {
    book.finishUndo(c, i.at);
  } else if (!ours) {
    book.forget(c, 'forgotten', 'warn', 'pausedByOther', `paused with reason "${i.reason}" while our undo was under way`);
  }
}

/** Someone else paused the member (autopause after a miss, a human): the penalty we raised has nothing left to do. */
function pausedElsewhere(book: ChangeBook, i: Extract<RingBackInput, { kind: 'memberPause' }>): void {
  const p = book.get('penalty', i.queue, i.iface);
  if (p === undefined || !book.isVerified(p) || p.phase === 'undoing') return;
  book.undo(p, 'pausedByOther', i.at);
}

export function onMemberPenalty(book: ChangeBook, i: Extract<RingBackInput, { kind: 'memberPenalty' }>): void {
  book.ledger.observe(i.queue, i.iface, { penalty: i.penalty }, i.at);
  const c = book.get('penalty', i.queue, i.iface);
  if (c === undefined || !book.isVerified(c)) return;
  const ours = i.penalty === c.raisedTo;
  if (c.phase === 'applying') {
    if (ours) book.confirm(c);
  } else if (c.phase === 'undoing' && i.penalty === c.restoreTo) {
    book.finishUndo(c, i.at);
  } else if (!ours) {
    book.forget(c, 'forgotten', 'info', 'penaltyChangedByOther', `penalty set to ${i.penalty}`);
  }
}

export function onActionResult(book: ChangeBook, i: Extract<RingBackInput, { kind: 'actionResult' }>): void {
  if (i.op === 'handBack') {
    // The change is already forgotten; a failure only means their reason still reads as ours.
    if (i.outcome !== 'ok') {
      const who = { queue: i.queue, iface: i.iface, memberName: '', policy: 'pause' as const };
      book.out.log('warn', 'failed', who, 'actionFailed', { detail: `giving their pause back: ${i.message ?? i.outcome}` });
    }
    return;
  }
  const c = book.get(i.op === 'pause' || i.op === 'unpause' ? 'pause' : 'penalty', i.queue, i.iface);
  if (c === undefined) return;
  const detail = i.message ?? `${i.op}: ${i.outcome}`;
  if (i.op === 'pause' || i.op === 'raisePenalty') {
    if (c.phase === 'undoing') return; // answered before the response came: the undo is on its way
    if (i.outcome === 'ok') {
      if (c.acked) return;
      c.acked = true;
      book.out.dirty();
      const cooldownSec = c.cooldownMs / 1000;
      book.out.log('info', 'applied', c, 'noAnswer', { cooldownSec, ...(c.raisedTo === undefined ? {} : { penalty: c.raisedTo }) });
      if (book.cfg.notifyAgent) {
        book.out.push({ type: 'notify', queue: c.queue, iface: c.iface, memberName: c.memberName, policy: c.policy, cooldownSec });
      }
    } else if (i.outcome === 'failed' || i.outcome === 'refused') {
      // "Interface not found", or not sent at all: nothing happened, so there is nothing to undo.
      book.forget(c, 'failed', 'warn', i.outcome === 'refused' ? 'notSaved' : 'actionFailed', detail);
      book.ledger.strikes.delete(memberKey(c.queue, c.iface));
    } else {
      book.out.log('warn', 'uncertain', c, 'uncertain', { detail: `${detail}; the next QueueStatus settles it` });
    }
    return;
  }
  if (c.phase !== 'undoing') return;
  if (i.outcome === 'ok') book.finishUndo(c, i.at);
  else if (i.outcome === 'failed' || i.outcome === 'refused') book.forget(c, 'failed', 'warn', 'actionFailed', `${detail}; nothing left to undo`);
  else {
    // Disconnected: the reconcile after the reconnect sends it again. A timeout on a live link: retry here.
    if (i.outcome === 'timeout') book.out.push({ type: 'scheduleTimer', id: keyOf(c), at: i.at + UNDO_RETRY_MS });
    book.out.log('warn', 'uncertain', c, 'uncertain', { detail: `undo: ${detail}; sent again later` });
  }
}
