/**
 * telephony.externalcall.show / hide (docs/reference/bitrix24-telephony.md#show-and-hide): push (or withdraw)
 * the call card.
 * `true` whenever the call is live, `false` for unknown or finished calls.
 */
import type { MethodHandler } from '../dispatch.js';
import { isPhpArray, isset, phpInt, phpString, phpValues } from '../php.js';
import type { CallState } from '../types.js';

export function showCard(call: CallState, userIds: number[]): void {
  for (const id of userIds) {
    call.shownTo.add(id);
    call.hiddenFor.delete(id);
  }
}

export function hideCard(call: CallState, userIds: number[]): void {
  for (const id of userIds) {
    call.hiddenFor.add(id);
    call.shownTo.delete(id);
  }
}

/** USER_ID: an int or an array of ints; absent → the call's registered user. */
function targetUsers(userIdParam: unknown, call: CallState): number[] {
  if (!isset(userIdParam)) return [call.userId];
  if (isPhpArray(userIdParam)) return phpValues(userIdParam).map(phpInt);
  return [phpInt(userIdParam)];
}

function cardMethod(push: (call: CallState, users: number[]) => void): MethodHandler {
  return (params, ctx) => {
    // CALL_ID is cast to string; there are no method-specific errors.
    const call = ctx.state.liveCall(phpString(params.CALL_ID));
    if (!call) return { result: false };
    push(call, targetUsers(params.USER_ID, call));
    return { result: true };
  };
}

export const showMethod = cardMethod(showCard);
export const hideMethod = cardMethod(hideCard);
