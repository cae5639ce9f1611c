import { describe, expect, it } from 'vitest';
import { eventFilters } from '../../src/ami/filters.js';
import type { AmiMessage } from '../../src/ami/types.js';
import { normalize } from '../../src/core/normalize.js';
import { needsReconcile, normalizeRingBack } from '../../src/ringback/normalize.js';
import { traceMessages, traceNames } from '../support/traces.js';

/** Asterisk applies an include filter to the whole event text; this renders a message the way AMI writes it. */
function passes(filters: string[], msg: AmiMessage): boolean {
  const text = Object.entries(msg).map(([k, v]) => `${k}: ${String(v)}\r\n`).join('');
  return filters.some((f) => new RegExp(f).test(text));
}

describe('the AMI event filter installed at login', () => {
  const filters = eventFilters(['MIXMONITOR_FILENAME', 'B24_RECORDING']);

  it('lets through every event of the real traces that the core or the ring-back fix reads', () => {
    let used = 0;
    for (const name of traceNames()) {
      for (const msg of traceMessages(name)) {
        // An action's own answer (QueueStatus's QueueParams, ...) carries its ActionID and is never filtered.
        if (msg['ActionID'] !== undefined) continue;
        const read = normalize(msg, 0) !== undefined || normalizeRingBack(msg, 0) !== undefined || needsReconcile(msg);
        if (!read) continue;
        used++;
        expect(passes(filters, msg), `${name}: ${String(msg['Event'])} is read but filtered out`).toBe(true);
      }
    }
    expect(used).toBeGreaterThan(1000);
  });

  it('lets through hold changes, and the configured recording variable, but not its look-alikes', () => {
    expect(passes(filters, { Event: 'Hold', Channel: 'PJSIP/101-00000001' })).toBe(true);
    expect(passes(filters, { Event: 'Unhold', Channel: 'PJSIP/101-00000001' })).toBe(true);
    expect(passes(filters, { Event: 'VarSet', Variable: 'B24_RECORDING', Value: '/x.wav' })).toBe(true);
    expect(passes(filters, { Event: 'VarSet', Variable: 'B24_RECORDING_OLD', Value: '/x.wav' })).toBe(false);
    expect(passes(filters, { Event: 'HangupRequest', Channel: 'PJSIP/101-00000001' })).toBe(false);
  });
});
