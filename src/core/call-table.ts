import type { CoreInputKind } from './events.js';

/**
 * The call's phases and, for each input kind, which phase a call may move to from each phase: the one table of
 * the call's life (h11 keeps its state machine the same way, in `_state.py`).
 *
 * tracking: seen, direction not known yet (or internal: never registered)
 * ringing:  inbound or outbound, nobody talking yet
 * talking:  an agent and the customer were bridged at least once
 * ended:    finished (kept only as a tombstone so late events cannot start it again)
 */
export type CallPhase = 'tracking' | 'ringing' | 'talking' | 'ended';

type Row = Readonly<Record<Exclude<CallPhase, 'ended'>, readonly CallPhase[]>>;

/** `row('ringing ended', 'ended', 'ended')`: the phases allowed from tracking, ringing and talking. */
function row(tracking: string, ringing: string, talking: string): Row {
  const phases = (s: string) => s.split(' ').filter(Boolean) as CallPhase[];
  return { tracking: phases(tracking), ringing: phases(ringing), talking: phases(talking) };
}

/**
 * Why each column says what it says:
 * - A channel snapshot classifies its call (tracking -> ringing) when its context says inbound or outbound.
 * - Any input that records a channel may end a call: a Linkedid rewrite moves a call's last channel away, or a
 *   tracking limit evicts a call that Bitrix24 already knows (it is finished then).
 * - Only a dial answered, a queue member connected, a bridge with the customer or a completed transfer answers.
 * - A click-to-call starts its call ringing; a failed originate only ends one; a new user map changes no call.
 * Nothing leaves `ended`: an ended call is forgotten at once.
 */
export const CALL_TABLE: Readonly<Record<CoreInputKind, Row>> = {
  //                      from tracking     from ringing     from talking
  channel:            row('ringing ended',  'ended',         'ended'),
  varSet:             row('ringing ended',  'ended',         'ended'),
  hangup:             row('ringing ended',  'ended',         'ended'),
  dialBegin:          row('ringing ended',  'ended',         'ended'),
  dialEnd:            row('ringing ended',  'talking ended', 'ended'),
  agentCalled:        row('ringing ended',  'ended',         'ended'),
  agentRingNoAnswer:  row('ringing ended',  'ended',         'ended'),
  agentConnect:       row('ringing ended',  'talking ended', 'ended'),
  agentComplete:      row('ringing ended',  'ended',         'ended'),
  queueJoin:          row('ringing ended',  'ended',         'ended'),
  queueLeave:         row('ringing ended',  'ended',         'ended'),
  queueAbandon:       row('ringing ended',  'ended',         'ended'),
  bridgeEnter:        row('ringing ended',  'talking ended', 'ended'),
  bridgeLeave:        row('ringing ended',  'ended',         'ended'),
  transfer:           row('ringing ended',  'talking ended', 'ended'),
  clickToCall:        row('ringing ended',  'ended',         'ended'),
  originateFailed:    row('ended',          'ended',         'ended'),
  resync:             row('ringing ended',  'ended',         'ended'),
  userMap:            row('',               '',              ''),
};

/** A move the table does not allow: only the call it names is dropped (the tracker reports it as callPoisoned). */
export class TransitionError extends Error {
  constructor(
    readonly linkedid: string,
    readonly from: CallPhase,
    readonly to: CallPhase,
    readonly kind: CoreInputKind,
  ) {
    super(`call ${linkedid}: ${from} -> ${to} is not allowed on ${kind}`);
    this.name = 'TransitionError';
  }
}

/** Moves the call to `to` if the table allows it on this input kind; otherwise throws and leaves the call as it was. */
export function transition(call: { linkedid: string; phase: CallPhase }, to: CallPhase, kind: CoreInputKind): void {
  if (call.phase === to) return;
  const allowed = call.phase === 'ended' ? [] : CALL_TABLE[kind][call.phase];
  if (!allowed.includes(to)) throw new TransitionError(call.linkedid, call.phase, to, kind);
  call.phase = to;
}
