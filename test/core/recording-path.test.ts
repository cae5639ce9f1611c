import { describe, expect, it } from 'vitest';
import type { AmiMessage } from '../../src/ami/types.js';
import type { Effect } from '../../src/core/effects.js';
import { normalize } from '../../src/core/normalize.js';
import { traceMessages, traceTracker } from '../support/traces.js';

/** Which file is attached when the dialplan names the recording itself (recordings.pathVariable). */

const VARIABLE = 'B24_RECORDING';
const MIXMONITOR = '/var/spool/asterisk/monitor/1795263642.90.wav';

function attached(messages: AmiMessage[]): string[] {
  const tracker = traceTracker({ recordingVariables: ['MIXMONITOR_FILENAME', VARIABLE] });
  const extra = new Set([VARIABLE]);
  const effects: Effect[] = [];
  for (const msg of messages) {
    const input = normalize(msg, 0, extra);
    if (input) effects.push(...tracker.handle(input));
  }
  return effects.flatMap((e) => (e.type === 'attachRecording' ? [e.path] : []));
}

/** The recording trace with the admin's variable set on the channel MixMonitor records, just before or after it. */
function withPathVariable(where: 'before' | 'after'): AmiMessage[] {
  const messages = traceMessages('recording');
  const i = messages.findIndex((m) => m['Event'] === 'VarSet' && m['Variable'] === 'MIXMONITOR_FILENAME');
  expect(i).toBeGreaterThan(0);
  const own = { ...messages[i]!, Variable: VARIABLE, Value: '/mnt/pbx-recordings/sales/1795263642.90.wav' };
  messages.splice(where === 'before' ? i : i + 1, 0, own);
  return messages;
}

describe('the recording path', () => {
  it('is MixMonitor\'s file when the dialplan names none', () => {
    expect(attached(traceMessages('recording'))).toEqual([MIXMONITOR]);
  });

  it('is the dialplan\'s own variable whether it is set before or after MixMonitor\'s', () => {
    expect(attached(withPathVariable('before'))).toEqual(['/mnt/pbx-recordings/sales/1795263642.90.wav']);
    expect(attached(withPathVariable('after'))).toEqual(['/mnt/pbx-recordings/sales/1795263642.90.wav']);
  });
});
