import type { Call } from './call.js';
import { transition } from './call-table.js';
import { openCard } from './cards.js';
import { cleanNumber, looksLikeDid } from './classify.js';
import type { Core, Turn } from './core-state.js';
import type { ChannelSnapshot } from './events.js';

/**
 * A call's direction, read from the first of its channels whose dialplan context says inbound or outbound: the
 * customer's number and the line, and for an outbound call the agent who placed it (whose card opens at once).
 * Calls that never get a direction are internal: never registered, no cards.
 */
export function classifyCall(core: Core, turn: Turn, call: Call, snap: ChannelSnapshot): void {
  if (call.direction !== undefined) {
    // The customer's caller ID may arrive after their first event (NewCallerid); it counts until the register.
    if (snap.uniqueid === call.customerChannel && !call.registered && !call.phoneNumber) call.phoneNumber = cleanNumber(snap.callerIdNum);
    return;
  }
  const direction = core.classifier.directionOf(snap.context);
  if (direction === 'inbound') {
    transition(call, 'ringing', turn.kind);
    call.direction = 'inbound';
    call.customerChannel = snap.uniqueid;
    call.phoneNumber = cleanNumber(snap.callerIdNum);
    call.lineNumber = looksLikeDid(snap.exten) ? snap.exten : core.defaultLineNumber;
  } else if (direction === 'outbound') {
    transition(call, 'ringing', turn.kind);
    call.direction = 'outbound';
    call.originChannel = snap.uniqueid;
    call.placingExt = core.classifier.extensionOf(snap.name);
    call.phoneNumber = cleanNumber(snap.exten);
    call.lineNumber = core.defaultLineNumber;
    const userId = call.placingExt === undefined ? undefined : core.users.userIdFor(call.placingExt, turn.out);
    openCard(core, turn, call, userId);
  }
}
