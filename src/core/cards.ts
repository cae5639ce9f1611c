import type { Call } from './call.js';
import type { Core, Turn } from './core-state.js';
import { ensureRegistered } from './register.js';

/**
 * The card policy, the only place that shows and hides cards: a user's card is open while one of their legs rings,
 * while they consult on it or while they talk, and closed on every way that ends (the ring ends unanswered, another
 * agent takes the customer, a transfer hands the call on, the call is finished). Shows and hides are emitted per
 * event; the outbox merges neighbours into one USER_ID array.
 */

export function openCard(core: Core, turn: Turn, call: Call, userId: number | undefined): void {
  if (userId === undefined || !core.showCards || call.cards.has(userId)) return;
  ensureRegistered(core, turn, call, userId);
  call.cards.add(userId);
  turn.out.push({ type: 'show', linkedid: call.linkedid, userIds: [userId] });
}

/** Closes a card unless the same user still rings on another leg, consults on it, or is the one talking. */
export function closeCardIfIdle(core: Core, turn: Turn, call: Call, userId: number | undefined): void {
  if (userId === undefined || !call.cards.has(userId) || ringsOn(call, userId)) return;
  for (const leg of call.consults.values()) if (leg.userId === userId) return;
  if (call.talkingExt !== undefined && core.users.userIdFor(call.talkingExt, turn.out) === userId) return;
  hide(turn, call, userId);
}

/**
 * A transfer hands the call on: the transferer's card closes now, though they were the one talking (the target's
 * opens when it rings), unless the transferer still rings on another leg of the call.
 */
export function handOverCard(turn: Turn, call: Call, userId: number): void {
  if (call.cards.has(userId) && !ringsOn(call, userId)) hide(turn, call, userId);
}

function ringsOn(call: Call, userId: number): boolean {
  for (const leg of call.ringing.values()) if (leg.userId === userId) return true;
  return false;
}

function hide(turn: Turn, call: Call, userId: number): void {
  call.cards.delete(userId);
  turn.out.push({ type: 'hide', linkedid: call.linkedid, userIds: [userId] });
}

/** The finish closes the finishing user's card in Bitrix24; every other open card is hidden just before it. */
export function closeCardsBeforeFinish(turn: Turn, call: Call, finisherId: number): void {
  const others = [...call.cards].filter((u) => u !== finisherId);
  if (others.length > 0) turn.out.push({ type: 'hide', linkedid: call.linkedid, userIds: others });
}

export function startRing(core: Core, turn: Turn, call: Call, legId: string, ext: string): void {
  if (call.ringing.has(legId)) return;
  const userId = core.users.userIdFor(ext, turn.out);
  call.ringing.set(legId, { ext, userId });
  call.rungExtensions.add(ext);
  openCard(core, turn, call, userId);
}

/** How many unanswered legs a call remembers until their Hangup (a leg's Hangup follows its DialEnd at once). */
export const ENDED_RINGS_LIMIT = 32;

/** A leg stopped ringing. Answered legs keep their card: the user is now talking. */
export function endRing(core: Core, turn: Turn, call: Call, legId: string, answered: boolean): void {
  const leg = call.ringing.get(legId);
  if (!leg) return;
  call.ringing.delete(legId);
  if (answered) return;
  // Its Hangup Cause is still to come (21: the agent rejected the call).
  call.endedRings.set(legId, leg);
  if (call.endedRings.size > ENDED_RINGS_LIMIT) call.endedRings.delete(call.endedRings.keys().next().value as string);
  closeCardIfIdle(core, turn, call, leg.userId);
}

/** Ends every ring leg but `keep` (another member answered, the caller left the queue). */
export function endAllRings(core: Core, turn: Turn, call: Call, keep?: string): void {
  for (const legId of [...call.ringing.keys()]) if (legId !== keep) endRing(core, turn, call, legId, false);
}
