import type { Call } from './call.js';
import type { FinishStatus } from './effects.js';

/** Bitrix24 STATUS_CODE for how a dial towards the customer or an agent ended. */
export function statusForDial(dialStatus: string | undefined): FinishStatus {
  switch (dialStatus) {
    case 'ANSWER':
      return '200';
    case 'BUSY':
      return '486';
    case 'CANCEL':
      return '603-S';
    case 'CONGESTION':
      return '503';
    case 'CHANUNAVAIL':
      return '480';
    default:
      return '304';
  }
}

/** OriginateResponse Reason (AST_CONTROL code) -> STATUS_CODE. */
export function statusForOriginateReason(reason: number): FinishStatus {
  switch (reason) {
    case 4:
      return '200';
    case 5:
      return '486';
    case 8:
      return '503';
    case 1:
      return '603';
    case 3:
      return '304';
    default:
      return '480';
  }
}

const CAUSE_CALL_REJECTED = 21;

/**
 * The status of a call that is over. Answered is 200 whatever happened after. An inbound call nobody took is
 * missed (304) when a queue handled it (abandon, timeout, all paused); a direct dial reports the agent's
 * answer (busy 486, rejected 603). An outbound call reports how the customer leg ended.
 */
export function finishStatus(call: Call): FinishStatus {
  if (call.answeredAt !== undefined) return '200';
  if (call.originateFailure) return call.originateFailure;
  if (call.direction === 'inbound') {
    if (call.queue !== undefined) return '304';
    if (call.lastAgentHangupCause === CAUSE_CALL_REJECTED) return '603';
    return call.lastDialStatus === 'BUSY' ? '486' : '304';
  }
  return statusForDial(call.lastDialStatus);
}

/**
 * Talk seconds from event times: first bridge of agent and customer to the last hangup. An answered call is never
 * 0 s (Bitrix24 would show a talk of nothing): under half a second counts as 1.
 */
export function talkSeconds(call: Call, endedAt: number): number {
  if (call.answeredAt === undefined) return 0;
  return Math.max(1, Math.round((endedAt - call.answeredAt) / 1000));
}
