import type { Call } from './call.js';
import type { Effect } from './effects.js';

/**
 * Card policy: a user's card is open while one of their legs rings or while they talk, and closed on every
 * way that ends. Shows and hides are emitted per event; the outbox merges neighbours into one USER_ID array.
 */
export interface CardContext {
  showCards: boolean;
  userIdFor(ext: string, out: Effect[]): number | undefined;
  ensureRegistered(call: Call, preferredUserId: number | undefined, out: Effect[]): void;
}

export function openCard(ctx: CardContext, call: Call, userId: number | undefined, out: Effect[]): void {
  if (userId === undefined || !ctx.showCards || call.cards.has(userId)) return;
  ctx.ensureRegistered(call, userId, out);
  call.cards.add(userId);
  out.push({ type: 'show', linkedid: call.linkedid, userIds: [userId] });
}

/** Closes a card unless the same user still rings on another leg, consults on it, or is the one talking. */
export function closeCardIfIdle(ctx: CardContext, call: Call, userId: number | undefined, out: Effect[]): void {
  if (userId === undefined || !call.cards.has(userId)) return;
  for (const leg of call.ringing.values()) if (leg.userId === userId) return;
  for (const leg of call.consults.values()) if (leg.userId === userId) return;
  if (call.talkingExt !== undefined && ctx.userIdFor(call.talkingExt, out) === userId) return;
  call.cards.delete(userId);
  out.push({ type: 'hide', linkedid: call.linkedid, userIds: [userId] });
}

export function startRing(ctx: CardContext, call: Call, legId: string, ext: string, out: Effect[]): void {
  if (call.ringing.has(legId)) return;
  const userId = ctx.userIdFor(ext, out);
  call.ringing.set(legId, { ext, userId });
  call.rungExtensions.add(ext);
  openCard(ctx, call, userId, out);
}

/** How many unanswered legs a call remembers until their Hangup (a leg's Hangup follows its DialEnd at once). */
export const ENDED_RINGS_LIMIT = 32;

/** A leg stopped ringing. Answered legs keep their card: the user is now talking. */
export function endRing(ctx: CardContext, call: Call, legId: string, answered: boolean, out: Effect[]): void {
  const leg = call.ringing.get(legId);
  if (!leg) return;
  call.ringing.delete(legId);
  if (answered) return;
  // Its Hangup Cause is still to come (21: the agent rejected the call).
  call.endedRings.set(legId, leg);
  if (call.endedRings.size > ENDED_RINGS_LIMIT) call.endedRings.delete(call.endedRings.keys().next().value as string);
  closeCardIfIdle(ctx, call, leg.userId, out);
}

/** Ends every ring leg but `keep` (another member answered, the caller left the queue). */
export function endAllRings(ctx: CardContext, call: Call, out: Effect[], keep?: string): void {
  for (const legId of [...call.ringing.keys()]) if (legId !== keep) endRing(ctx, call, legId, false, out);
}
