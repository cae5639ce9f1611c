import type { Call } from './call.js';
import type { Core } from './core-state.js';
import type { MemberLastCall } from './events.js';

/**
 * When the daemon was blind (down, or AMI cut) from `blindSince` until a resync at `at`, an answer or a hangup it
 * did not see is estimated from the best evidence there is:
 * - a call found answered was answered when the queue says (its agent's AgentComplete, when the call ends after
 *   the daemon is back: the event's time less TalkTime, whole seconds, so within a second), else when the daemon
 *   last saw it ringing (`blindSince`, also for a call that started while it was blind): the talk time errs long,
 *   by at most the blind time.
 * - a call found gone ended when its agent's queue says the agent's last call ended (QueueStatus `LastCall`, whole
 *   seconds: the middle of that second, so within half a second), else when the daemon came back: the talk time
 *   errs long, by at most the blind time.
 * The README ("What Bitrix24 sees") states the same.
 */

/** When a call a resync finds answered was answered, at the earliest the daemon cannot rule out. */
export function answeredWhileBlind(call: Call, blindSince: number, at: number): number {
  return Math.min(at, Math.max(blindSince, call.startedAt));
}

/** AgentComplete of the agent a resync found talking: its TalkTime says when the answer was. */
export function answerFromTalkTime(core: Core, call: Call, queue: string, iface: string, talkSec: number, at: number): void {
  const window = call.answeredWithin;
  if (window === undefined || call.queue !== queue || core.classifier.extensionOf(iface) !== window.ext) return;
  call.answeredAt = Math.min(window.to, Math.max(window.from, at - talkSec * 1000));
  delete call.answeredWithin;
}

/** When a call whose channels vanished while the daemon was blind ended, at the latest the evidence allows. */
export function endedWhileBlind(core: Core, call: Call, lastCalls: readonly MemberLastCall[], blindSince: number, at: number): number {
  if (call.answeredAt === undefined || call.talkingExt === undefined || call.queue === undefined) return at;
  const since = Math.max(blindSince, call.answeredAt);
  let end: number | undefined;
  for (const m of lastCalls) {
    if (m.queue !== call.queue || core.classifier.extensionOf(m.iface) !== call.talkingExt) continue;
    // A LastCall from before the call was last seen alive is an earlier call's; one within the blind time is this
    // call's end, or the end of a later call the same agent took meanwhile (later than the truth, still within the
    // blind time).
    if (m.endedAt + 1000 < since || m.endedAt > at) continue;
    const middle = m.endedAt + 500;
    end = Math.max(end ?? middle, middle);
  }
  return end === undefined ? at : Math.min(at, Math.max(since, end));
}
