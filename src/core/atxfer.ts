import type { Call } from './call.js';
import type { Core, Turn } from './core-state.js';
import { markTalking } from './talk.js';

/**
 * Asterisk's own attended transfer (the AMI `Atxfer` action, the `atxfer` feature code). The bridging core dials
 * the target itself, through a Local channel it creates next to the transferring agent (bridge_basic.c
 * `dial_transfer()`: `Local/<number>@<context>`), and that channel keeps the customer call's Linkedid. The target's
 * dialplan (an extension's Dial(), a ring group, a Queue()) runs on its other half, so the consultation's rings are
 * this call's own dials, placed by a channel that is not the customer's. They are not a takeover: the targets' cards
 * open while they ring, the one who answers consults with the agent, and takes the customer only when the transfer
 * completes (the consultation channel joins the customer's bridge, or `AttendedTransfer` reports success).
 * Recorded in test/fixtures/ami: attended_transfer_to_extension, _to_queue, _to_ringgroup.
 */

/** How many consultation channels a call remembers (one per Atxfer in progress; a hostile AMI cannot grow it). */
const CONSULT_LINES_LIMIT = 4;

/** A dial or a queue call placed by `dialer` on this call is a consultation's: the call is talking, the dialer is not the customer. */
export function isConsultationDial(call: Call, dialer: string | undefined): boolean {
  return call.phase === 'talking' && dialer !== undefined && dialer !== call.customerChannel;
}

/**
 * A bridge without the customer holds the talking agent's channel: the agent left the customer to consult. The
 * bridge's other channels of this call (the transfer feature's Local channel) are the consultation's lines.
 */
export function noteConsultLines(core: Core, call: Call, members: ReadonlySet<string>): void {
  if (call.talkingChannel === undefined || !members.has(call.talkingChannel)) return;
  for (const id of members) {
    if (id === call.talkingChannel || call.ringing.has(id) || call.consults.has(id) || call.consultLines.includes(id)) continue;
    if (core.channels.get(id)?.linkedid !== call.linkedid) continue;
    call.consultLines.push(id);
    if (call.consultLines.length > CONSULT_LINES_LIMIT) call.consultLines.shift();
  }
}

/** The number the latest consultation dialled (`Local/7200@from-internal-…;1`: 7200), to name an Atxfer's target. */
export function consultedNumber(core: Core, call: Call): string | undefined {
  const line = call.consultLines.at(-1);
  const name = line === undefined ? undefined : core.channels.get(line)?.name;
  return name === undefined ? undefined : core.classifier.extensionOf(name);
}

/** The channel hung up: it consults no more. */
export function dropConsultLine(call: Call, uniqueid: string): void {
  const i = call.consultLines.indexOf(uniqueid);
  if (i >= 0) call.consultLines.splice(i, 1);
}

/**
 * The transfer completed: the target who answered the consultation (the latest one) talks to the customer now.
 * When nobody answered yet (the agent completed while it rang), the consultation's rings become the call's own:
 * whoever answers takes the customer. Returns whether someone took the customer.
 */
export function completeConsultation(core: Core, turn: Turn, call: Call): boolean {
  const answered = [...call.consults.entries()].at(-1);
  if (answered !== undefined) {
    markTalking(core, turn, call, answered[1].ext, answered[0]);
    return true;
  }
  for (const leg of call.ringing.values()) delete leg.consult;
  return false;
}
