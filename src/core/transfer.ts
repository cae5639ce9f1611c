import { handOverCard } from './cards.js';
import type { Core, Turn } from './core-state.js';
import type { CoreInput } from './events.js';
import { classifiedCall } from './observe.js';
import { markTalking } from './talk.js';

/**
 * BlindTransfer and AttendedTransfer: noted on the call; a successful one hands the call on (the transferer's card
 * closes), and an attended one makes the consultation's target the agent who talks.
 */
export function onTransfer(core: Core, turn: Turn, input: Extract<CoreInput, { kind: 'transfer' }>): void {
  const { type, ok, target } = input;
  // Either side of an attended transfer may be the customer's call, depending on which dialog the phone used.
  let transferer = input.transferer;
  let call = transferer && classifiedCall(core, turn, transferer);
  if (!call && input.secondTransferer) call = classifiedCall(core, turn, (transferer = input.secondTransferer));
  if (!call || !transferer) return;
  call.transfers.push(`${type}:${ok ? '' : 'failed:'}${target}`);
  if (!ok) return;
  // Attended: the consultation's target now talks to the customer (and the transferer's card closes with it).
  const consult = input.targetChannel && call.consults.get(input.targetChannel.uniqueid);
  if (consult && input.targetChannel) markTalking(core, turn, call, consult.ext, input.targetChannel.uniqueid);
  const ext = core.classifier.extensionOf(transferer.name);
  const userId = ext === undefined ? undefined : core.users.userIdFor(ext, turn.out);
  if (userId !== undefined) handOverCard(turn, call, userId);
}
