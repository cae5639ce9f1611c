/**
 * Issue 14's core cases, recorded live: attended transfers whose consultation enters a queue or a ring group (1),
 * and, with the same cause (an Atxfer consultation shares the customer call's Linkedid), one to an extension whose
 * transferring agent's card closes when the target answers instead of on completion; the daemon killed while a call
 * rang and back while it talked (2); down through the hangup (3). Their expected files hold what Bitrix24 must see
 * (register, show, hide, finish); issue14-traces.test.ts checks them.
 */
export const ISSUE_14_CORE_CASES = [
  'attended_transfer_to_queue',
  'attended_transfer_to_ringgroup',
  'attended_transfer_to_extension',
  'restart_while_ringing',
  'down_through_hangup',
];
