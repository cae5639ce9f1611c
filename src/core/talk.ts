import type { Call } from './call.js';
import { transition } from './call-table.js';
import { closeCardIfIdle } from './cards.js';
import type { Core, Turn } from './core-state.js';

/**
 * Who talks to the customer: the agent a dial, a queue or a transfer connected, or the newest agent in a bridge
 * with the customer (bridge.ts). The first one answers the call (at `answeredAt`: the input's time, or the estimate
 * of a resync); each change closes the previous agent's card.
 */
export function markTalking(core: Core, turn: Turn, call: Call, ext: string, channel: string | undefined, answeredAt = turn.at): void {
  if (call.answeredAt === undefined) {
    transition(call, 'talking', turn.kind);
    call.answeredAt = answeredAt;
  }
  const previous = call.talkingExt;
  if (channel !== undefined) call.consults.delete(channel);
  if (previous !== ext) call.talkedExts.push(ext);
  call.talkingExt = ext;
  call.talkingChannel = channel;
  if (previous !== undefined && previous !== ext) closeCardIfIdle(core, turn, call, core.users.userIdFor(previous, turn.out));
}

/** An agent's leg: an extension with a user, or any leg in an internal context (a phone of the PBX). */
export function isAgentLeg(core: Core, ext: string, context: string): boolean {
  return core.users.has(ext) || core.classifier.directionOf(context) === 'internal';
}
