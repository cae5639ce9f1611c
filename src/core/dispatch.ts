import { onClickToCall, onOriginateFailed } from './click-to-call.js';
import type { Core, Turn } from './core-state.js';
import { onDialBegin, onDialEnd } from './dial.js';
import type { CoreInput } from './events.js';
import { onHangup } from './hangup.js';
import { observe } from './observe.js';
import { onQueueEvent } from './queue.js';
import { onVarSet } from './recording.js';
import { onResync } from './resync.js';
import { onBridgeEnter } from './talk.js';
import { onTransfer } from './transfer.js';

/** Each input kind to the step that handles it. */
export function dispatch(core: Core, turn: Turn, input: CoreInput): void {
  switch (input.kind) {
    case 'channel':
      observe(core, turn, input.channel);
      return;
    case 'varSet':
      return onVarSet(core, turn, input);
    case 'hangup':
      return onHangup(core, turn, input.channel, input.cause);
    case 'dialBegin':
      return onDialBegin(core, turn, input.caller, input.dest);
    case 'dialEnd':
      return onDialEnd(core, turn, input.caller, input.dest, input.status);
    case 'agentCalled':
    case 'agentRingNoAnswer':
    case 'agentConnect':
    case 'agentComplete':
    case 'queueJoin':
    case 'queueLeave':
    case 'queueAbandon':
      return onQueueEvent(core, turn, input);
    case 'bridgeEnter':
      return onBridgeEnter(core, turn, input.bridgeId, input.channel);
    case 'bridgeLeave':
      observe(core, turn, input.channel);
      core.channels.leaveBridge(input.channel.uniqueid);
      return;
    case 'transfer':
      return onTransfer(core, turn, input);
    case 'clickToCall':
      return onClickToCall(core, turn, input);
    case 'originateFailed':
      return onOriginateFailed(core, turn, input);
    case 'resync':
      return onResync(core, turn, input.live, input.known);
    case 'userMap':
      // Changes no call: later events name users by the new map (legs already ringing keep the user they had).
      core.users.replace(input.extensions);
      return;
    default:
      throw new Error(`unknown core input ${(input satisfies never as { kind: string }).kind}`);
  }
}
