import type { Core, Turn } from './core-state.js';
import type { CoreInput } from './events.js';
import { observe } from './observe.js';

/**
 * One recording per Bitrix24 call. The admin's variable (recordings.pathVariable) names the file to attach,
 * whatever MixMonitor says; between MixMonitor paths, the customer channel's recording wins, else the first one.
 */
export function onVarSet(core: Core, turn: Turn, input: Extract<CoreInput, { kind: 'varSet' }>): void {
  const call = observe(core, turn, input.channel);
  if (!call || !core.recordingVariables.has(input.variable) || !input.value) return;
  const preferred = input.variable !== 'MIXMONITOR_FILENAME';
  if (preferred || (!call.recordingFromPathVariable && (!call.recordingPath || input.channel.uniqueid === call.customerChannel))) {
    call.recordingPath = input.value;
    call.recordingChannel = input.channel.uniqueid;
    call.recordingFromPathVariable ||= preferred;
  }
}
