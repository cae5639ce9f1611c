import type { Call } from './call.js';
import { transition } from './call-table.js';
import { closeCardsBeforeFinish } from './cards.js';
import type { Core, Turn } from './core-state.js';
import { finishStatus, talkSeconds } from './finish-policy.js';
import { attribute, ensureRegistered } from './register.js';

/**
 * The end of a call (at `endedAt`: the input's time, or a resync's estimate): it leaves the books, and Bitrix24
 * gets its one finish (and its recording, if any).
 */
export function endCall(core: Core, turn: Turn, call: Call, endedAt = turn.at): void {
  transition(call, 'ended', turn.kind);
  forgetCall(core, call, true);
  finishEffects(core, turn, call, endedAt);
}

/**
 * Takes a call out of the books: its channels (those still carrying its Linkedid) and its consultations.
 * `tombstone`: late events of its Linkedid are ignored from now on (it ended) rather than tracked again (dropped).
 */
export function forgetCall(core: Core, call: Call, tombstone: boolean): void {
  core.consultations.forgetCall(call);
  if (tombstone) core.calls.end(call.linkedid);
  else core.calls.drop(call.linkedid);
  for (const id of call.channels) if (core.channels.get(id)?.linkedid === call.linkedid) core.channels.delete(id);
}

/** hide (every open card but the finisher's), finish, the recording, and the summary of a call that is over. */
function finishEffects(core: Core, turn: Turn, call: Call, endedAt: number): void {
  if (call.direction === undefined) return;
  const talker = call.talkingExt ?? (call.direction === 'outbound' ? call.placingExt : undefined);
  const finisher = attribute(core, turn, talker);
  const userExt = finisher.userExt !== undefined ? { userExt: finisher.userExt } : {};
  ensureRegistered(core, turn, call, undefined, talker);
  closeCardsBeforeFinish(turn, call, finisher.userId);
  const status = finishStatus(call);
  const durationSec = talkSeconds(call, endedAt);
  turn.out.push({ type: 'finish', linkedid: call.linkedid, userId: finisher.userId, ...userExt, durationSec, status });
  if (call.recordingPath) {
    const recordedOn = call.recordingChannel !== undefined && call.recordingChannel === call.customerChannel ? 'customer' : 'agent';
    const queue = call.queue !== undefined ? { queue: call.queue } : {};
    const recorded = { direction: call.direction, durationSec, answered: status === '200', ...queue, recordedOn } as const;
    turn.out.push({ type: 'attachRecording', linkedid: call.linkedid, path: call.recordingPath, endedAt, call: recorded });
  }
  turn.out.push({
    type: 'callEnded',
    linkedid: call.linkedid,
    direction: call.direction,
    phoneNumber: call.phoneNumber,
    status,
    userId: finisher.userId,
    ...userExt,
    durationSec,
    ...(call.queue !== undefined ? { queue: call.queue } : {}),
    ...(call.queueJoinedAt !== undefined
      ? { waitSec: Math.max(0, Math.round(((call.answeredAt ?? call.queueLeftAt ?? endedAt) - call.queueJoinedAt) / 1000)) }
      : {}),
    rungExtensions: [...call.rungExtensions],
    answeredBy: [...call.talkedExts],
    transfers: call.transfers,
  });
}
