import { newCall, type Call } from './call.js';
import { endCall } from './call-end.js';
import { transition } from './call-table.js';
import { openCard } from './cards.js';
import type { Core, Turn } from './core-state.js';
import type { CoreInput } from './events.js';
import { statusForOriginateReason } from './finish-policy.js';
import { makeRoomForCall } from './limits.js';

/**
 * Click-to-call: Bitrix24 registered the call already (the CALL_ID comes with the click), so the core binds it and
 * never registers; the clicking user's card shows at once. A callback comes without a CALL_ID: the core registers
 * it (TYPE 4, for the user it rings first), so it goes through the outbox like every register. Its Originate may
 * fail before any channel exists.
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
  call.lineNumber = input.lineNumber ?? '';
  core.calls.add(call);
  if (input.callId !== undefined) turn.out.push({ type: 'bindCallId', linkedid: input.linkedid, callId: input.callId });
  else registerCallback(core, turn, call, input);
  if (input.card !== false) openCard(core, turn, call, input.userId);
}

/** A callback is the customer's request, so it creates a lead as an inbound call would (bitrix.crmCreate.inbound). */
function registerCallback(core: Core, turn: Turn, call: Call, input: Extract<CoreInput, { kind: 'clickToCall' }>): void {
  turn.out.push({
    type: 'register',
    linkedid: call.linkedid,
    userId: input.userId,
    phoneNumber: call.phoneNumber,
    callType: 4,
    lineNumber: call.lineNumber,
    startedAt: call.startedAt,
    crmCreate: call.phoneNumber !== '' && core.crmCreate.inbound,
    ...(input.crmEntity ? { crmEntity: input.crmEntity } : {}),
  });
}

export function onOriginateFailed(core: Core, turn: Turn, input: Extract<CoreInput, { kind: 'originateFailed' }>): void {
  const call = core.calls.get(input.linkedid);
  if (!call) return;
  call.originateFailure = statusForOriginateReason(input.reason);
  if (call.channels.size === 0) endCall(core, turn, call);
}
