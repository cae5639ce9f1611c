import { isConsultationDial } from './atxfer.js';
import { answerFromTalkTime } from './blind-estimate.js';
import { endAllRings, endRing, startRing } from './cards.js';
import type { Core, Turn } from './core-state.js';
import type { CoreInput } from './events.js';
import { classifiedCall, observe } from './observe.js';
import { markTalking } from './talk.js';

/**
 * Queue(): the caller joins and leaves (its wait), members are called (their cards show), do not answer, or
 * connect (the other members stop ringing). A member is named by its queue interface, else its channel. A queue
 * that the call's consultation entered (an Atxfer to a queue, atxfer.ts) rings members for the consultation: the
 * one who connects consults, and the call keeps the customer's queue and wait.
 */
type QueueInput = Extract<CoreInput, { kind: 'agentCalled' | 'agentRingNoAnswer' | 'agentConnect' | 'agentComplete' | 'queueJoin' | 'queueLeave' | 'queueAbandon' }>;

export function onQueueEvent(core: Core, turn: Turn, input: QueueInput): void {
  switch (input.kind) {
    case 'agentCalled': {
      const call = classifiedCall(core, turn, input.caller);
      observe(core, turn, input.dest);
      const ext = core.classifier.extensionOf(input.iface) ?? core.classifier.extensionOf(input.dest.name);
      if (call && ext) startRing(core, turn, call, input.dest.uniqueid, ext, isConsultationDial(call, input.caller.uniqueid));
      return;
    }
    case 'agentRingNoAnswer': {
      const call = classifiedCall(core, turn, input.caller);
      if (call) endRing(core, turn, call, input.dest.uniqueid, false);
      return;
    }
    case 'agentConnect': {
      const call = classifiedCall(core, turn, input.caller);
      const ext = core.classifier.extensionOf(input.iface) ?? core.classifier.extensionOf(input.dest.name);
      if (!call || !ext) return;
      endAllRings(core, turn, call, input.dest.uniqueid);
      const leg = call.ringing.get(input.dest.uniqueid);
      if (leg?.consult) return core.consultations.dialEnded(core, turn, call, input.dest.uniqueid, 'ANSWER');
      // Its DialEnd ANSWER came first: it consults already.
      if (call.consults.has(input.dest.uniqueid)) return;
      endRing(core, turn, call, input.dest.uniqueid, true);
      markTalking(core, turn, call, ext, input.dest.uniqueid);
      return;
    }
    case 'agentComplete': {
      const call = observe(core, turn, input.caller);
      if (call && input.talkSec !== undefined) answerFromTalkTime(core, call, input.queue, input.iface, input.talkSec, input.at);
      return;
    }
    case 'queueJoin': {
      const call = observe(core, turn, input.caller);
      if (call && !isConsultationDial(call, input.caller.uniqueid)) {
        call.queue = input.queue;
        call.queueJoinedAt ??= input.at;
      }
      return;
    }
    case 'queueLeave':
    case 'queueAbandon': {
      const call = classifiedCall(core, turn, input.caller);
      if (call) {
        call.queueLeftAt ??= input.at;
        endAllRings(core, turn, call);
      }
      return;
    }
  }
}
