import type { Call } from './call.js';
import type { Effect } from './effects.js';
import { finishStatus, talkSeconds } from './finish-policy.js';

/** The Bitrix24 side of a call's life: its one register and its one finish. Pure builders over a Call. */
export interface CallEndContext {
  defaultUserId: number;
  crmCreate: { inbound: boolean; outbound: boolean };
  userIdFor(ext: string, out: Effect[]): number | undefined;
}

/** Emits the call's register once, just before the first effect that needs its CALL_ID. */
export function ensureRegistered(ctx: CallEndContext, call: Call, preferredUserId: number | undefined, out: Effect[]): void {
  if (call.registered || call.direction === undefined) return;
  call.registered = true;
  const placer = call.placingExt === undefined ? undefined : ctx.userIdFor(call.placingExt, out);
  const known = call.phoneNumber !== '';
  out.push({
    type: 'register',
    linkedid: call.linkedid,
    userId: (call.direction === 'outbound' ? placer : preferredUserId) ?? ctx.defaultUserId,
    // Anonymous callers are still logged; '0' keeps Bitrix24's number check happy and creates no lead.
    phoneNumber: known ? call.phoneNumber : '0',
    callType: call.direction === 'outbound' ? 1 : 2,
    lineNumber: call.lineNumber,
    startedAt: call.startedAt,
    crmCreate: known && ctx.crmCreate[call.direction],
  });
}

/** hide (every open card but the finisher's), finish, the recording, and the summary of a call that is over. */
export function finishEffects(ctx: CallEndContext, call: Call, at: number, out: Effect[]): void {
  if (call.direction === undefined) return;
  const talker = call.talkingExt ?? (call.direction === 'outbound' ? call.placingExt : undefined);
  const userId = (talker === undefined ? undefined : ctx.userIdFor(talker, out)) ?? ctx.defaultUserId;
  ensureRegistered(ctx, call, userId, out);
  // finish hides only the finishing user's card: every other open card is hidden first.
  const others = [...call.cards].filter((u) => u !== userId);
  if (others.length > 0) out.push({ type: 'hide', linkedid: call.linkedid, userIds: others });
  const status = finishStatus(call);
  const durationSec = talkSeconds(call, at);
  out.push({ type: 'finish', linkedid: call.linkedid, userId, durationSec, status });
  if (call.recordingPath) out.push({ type: 'attachRecording', linkedid: call.linkedid, path: call.recordingPath, endedAt: at });
  out.push({
    type: 'callEnded',
    linkedid: call.linkedid,
    direction: call.direction,
    phoneNumber: call.phoneNumber,
    status,
    userId,
    durationSec,
    ...(call.queue !== undefined ? { queue: call.queue } : {}),
    ...(call.queueJoinedAt !== undefined
      ? { waitSec: Math.max(0, Math.round(((call.answeredAt ?? call.queueLeftAt ?? at) - call.queueJoinedAt) / 1000)) }
      : {}),
    rungExtensions: [...call.rungExtensions],
    answeredBy: [...call.talkedExts],
    transfers: call.transfers,
  });
}
