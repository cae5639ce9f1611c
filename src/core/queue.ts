import { endAllRings, endRing, startRing } from './cards.js';
import type { Core, Turn } from './core-state.js';
import type { CoreInput } from './events.js';
import { classifiedCall, observe } from './observe.js';
import { markTalking } from './talk.js';

/**
 * Queue(): the caller joins and leaves (its wait), members are called (their cards show), do not answer, or
 * connect (the other members stop ringing). A member is named by its queue interface, else its channel.
 */
type QueueInput = Extract<CoreInput, { kind: 'agentCalled' | 'agentRingNoAnswer' | 'agentConnect' | 'agentComplete' | 'queueJoin' | 'queueLeave' | 'queueAbandon' }>;

export function onQueueEvent(core: Core, turn: Turn, input: QueueInput): void {
  switch (input.kind) {
    case 'agentCalled': {
      const call = classifiedCall(core, turn, input.caller);
      observe(core, turn, input.dest);
      const ext = core.classifier.extensionOf(input.iface) ?? core.classifier.extensionOf(input.dest.name);
      if (call && ext) startRing(core, turn, call, input.dest.uniqueid, ext);
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
      endRing(core, turn, call, input.dest.uniqueid, true);
      markTalking(core, turn, call, ext, input.dest.uniqueid);
      return;
    }
    case 'agentComplete':
      observe(core, turn, input.caller);
      return;
    case 'queueJoin': {
      const call = observe(core, turn, input.caller);
      if (call) {
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
