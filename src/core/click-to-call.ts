import { newCall } from './call.js';
import { endCall } from './call-end.js';
import { transition } from './call-table.js';
import { openCard } from './cards.js';
import type { Core, Turn } from './core-state.js';
import type { CoreInput } from './events.js';
import { statusForOriginateReason } from './finish-policy.js';
import { makeRoomForCall } from './limits.js';

/**
 * Click-to-call: Bitrix24 registered the call already (the CALL_ID comes with the click), so the core binds it and
 * never registers; the clicking user's card shows at once. Its Originate may fail before any channel exists.
 */
export function onClickToCall(core: Core, turn: Turn, input: Extract<CoreInput, { kind: 'clickToCall' }>): void {
  if (core.calls.isEnded(input.linkedid) || core.calls.has(input.linkedid)) return;
  turn.seen.add(input.linkedid);
  makeRoomForCall(core, turn);
  const call = newCall(input.linkedid, input.at);
  transition(call, 'ringing', turn.kind);
  call.direction = 'outbound';
  call.clickToCall = true;
  call.registered = true;
  call.placingExt = input.ext;
  call.phoneNumber = input.number;
  core.calls.add(call);
  turn.out.push({ type: 'bindCallId', linkedid: input.linkedid, callId: input.callId });
  if (input.card !== false) openCard(core, turn, call, input.userId);
}

export function onOriginateFailed(core: Core, turn: Turn, input: Extract<CoreInput, { kind: 'originateFailed' }>): void {
  const call = core.calls.get(input.linkedid);
  if (!call) return;
  call.originateFailure = statusForOriginateReason(input.reason);
  if (call.channels.size === 0) endCall(core, turn, call);
}
