import { describe, expect, it } from 'vitest';
import type { AmiMessage } from '../../src/ami/types.js';
import type { Effect } from '../../src/core/effects.js';
import type { ChannelSnapshot, LiveChannel } from '../../src/core/events.js';
import { normalize } from '../../src/core/normalize.js';
import { shifted, stamp } from '../support/trace-replay.js';
import { traceMessages, traceTracker } from '../support/traces.js';

/**
 * Asterisk's own attended transfer (Atxfer) into a queue, beyond what was recorded: the recorded
 * attended_transfer_to_queue (102 consults 7200 = Queue(backoffice), 201 answers, 102 completes) cut and re-timed
 * into the two other endings, the consultation given up after its answer and the transfer completed while the queue
 * still rings. Times are seconds after the call's start (5556001 dials in at 1796615565.407): 102 answers at 1.0, the
 * consultation rings 201 and 202 at 5.5, 201 answers it at 6.5, 102 completes at 10.0, the customer hangs up at 20.0.
 */

const T0 = 1796615565.407;
const recorded = traceMessages('attended_transfer_to_queue').filter((m) => Number(m['Timestamp']) > 0);
/** The recorded events from `from` to `to` (trace seconds), moved to start at `at`. */
const part = (from: number, to: number, at = from, keep: (m: AmiMessage) => boolean = () => true): AmiMessage[] =>
  shifted(recorded.filter((m) => stamp(m) >= T0 + from && stamp(m) < T0 + to && keep(m)), at - from);
const named = (...names: string[]) => (m: AmiMessage) => names.some((n) => String(m['Channel']).startsWith(n));

function portal(messages: AmiMessage[]): string[] {
  const tracker = traceTracker();
  const out: string[] = [];
  for (const msg of messages) {
    const input = normalize(msg, 0);
    if (!input) continue;
    const t = (input.at / 1000 - T0).toFixed(1);
    for (const e of tracker.handle(input) as Effect[]) {
      if (e.type === 'show' || e.type === 'hide') out.push(`${t} ${e.type} ${e.userIds.join(',')}`);
      if (e.type === 'finish') out.push(`${t} finish ${e.userId} ${e.durationSec}s ${e.status}`);
      if (e.type === 'unmappedExtension') out.push(`${t} unmapped ${e.ext}`);
    }
  }
  return out;
}

describe('an Atxfer into a queue', () => {
  it('given up after 201 answered the consultation: 21\'s card closes with it, 102 keeps the customer and finishes', () => {
    // Up to 102's hangup (10.0 s), then the consultation hangs up at 9 s and 102 goes back to the customer's bridge;
    // the customer hangs up at 15 s, then 102.
    const consultation = ['Local/7200@from-internal-', 'Local/201@agents-'];
    const back = part(5.5, 5.6, 9.1, (m) => m['Event'] === 'BridgeEnter' && named('Local/102@agents-')(m)).map((m) => ({ ...m, BridgeUniqueid: '64a4d7f8-05de-4c09-a55f-be68b2e62ef6' }));
    const messages = [
      ...part(0, 10),
      ...part(20, 20.1, 9, (m) => m['Event'] === 'Hangup' && named(...consultation)(m)),
      ...back,
      ...part(20, 20.1, 15, (m) => m['Event'] === 'Hangup' && named('Local/5556001@')(m)),
      ...part(10, 10.1, 15.1, (m) => m['Event'] === 'Hangup' && named('Local/102@agents-')(m)),
    ];
    expect(portal(messages)).toEqual([
      '0.0 show 11',
      '0.0 show 12',
      '0.0 show 13',
      '1.0 hide 11',
      '1.0 hide 13',
      '5.5 show 21',
      '5.5 show 22',
      '6.5 hide 22',
      '9.0 hide 21',
      // 102 answered at 1.0 s and talked to the customer until it hung up, after the customer.
      '15.1 finish 12 14s 200',
    ]);
  });

  it('completed while the queue still rings: 12\'s card closes on completion, 201 answers and takes the customer', () => {
    // Up to 201's answer (6.5 s); 102 completes at 7 s; 201 answers at 8 s; the customer hangs up at 12 s.
    const messages = [...part(0, 6.5), ...part(10, 10.1, 7), ...part(6.5, 6.6, 8), ...part(20, 20.1, 12)];
    expect(portal(messages)).toEqual([
      '0.0 show 11',
      '0.0 show 12',
      '0.0 show 13',
      '1.0 hide 11',
      '1.0 hide 13',
      '5.5 show 21',
      '5.5 show 22',
      '7.0 hide 12',
      '8.0 hide 22',
      // The whole talk: from 102's answer at 1.0 s.
      '12.0 finish 21 11s 200',
    ]);
  });
});

describe('an Atxfer into a queue while the daemon is blind', () => {
  it('from the ringing consultation until after the completion: the resync finds 201 behind the consultation channel in the customer\'s bridge', () => {
    const tracker = traceTracker();
    const out: string[] = [];
    const note = (t: number, effects: Effect[]) => {
      for (const e of effects) {
        if (e.type === 'show' || e.type === 'hide') out.push(`${t.toFixed(1)} ${e.type} ${e.userIds.join(',')}`);
        if (e.type === 'finish') out.push(`${t.toFixed(1)} finish ${e.userId} ${e.durationSec}s ${e.status}`);
      }
    };
    for (const msg of part(0, 6)) {
      const input = normalize(msg, 0);
      if (input) note(input.at / 1000 - T0, tracker.handle(input));
    }
    // At 12 s: 102 is gone, the customer is bridged with the transfer feature's Local/7200@from-internal;1, whose
    // other half is bridged with 201; 202 stopped ringing.
    const channel = (prefix: string) => {
      const msg = recorded.find((m) => m['Event'] === 'Newchannel' && String(m['Channel']).startsWith(prefix));
      return (normalize(msg!, 0) as { channel: ChannelSnapshot }).channel;
    };
    const live: LiveChannel[] = [
      { ...channel('Local/5556001@customer-phone-00000000;1'), up: true, bridgeId: 'customer' },
      { ...channel('Local/5556001@customer-phone-00000000;2'), up: true, bridgeId: '' },
      { ...channel('Local/7200@from-internal-00000004;1'), up: true, bridgeId: 'customer' },
      { ...channel('Local/7200@from-internal-00000004;2'), up: true, bridgeId: 'consultation' },
      { ...channel('Local/201@agents-00000005;1'), up: true, bridgeId: 'consultation' },
      { ...channel('Local/201@agents-00000005;2'), up: true, bridgeId: '' },
    ];
    const at = (T0 + 12) * 1000;
    note(12, tracker.handle({ kind: 'resync', at, blindSince: tracker.lastEventTime, live, known: tracker.channelIds() }));
    for (const msg of part(20, 20.1, 15)) {
      const input = normalize(msg, 0);
      if (input) note(input.at / 1000 - T0, tracker.handle(input));
    }
    expect(out).toEqual([
      '0.0 show 11',
      '0.0 show 12',
      '0.0 show 13',
      '1.0 hide 11',
      '1.0 hide 13',
      '5.5 show 21',
      '5.5 show 22',
      // At the resync: 202's leg is gone, 201 answered, and the transfer completed (12 is gone).
      '12.0 hide 22',
      '12.0 hide 12',
      '15.0 finish 21 14s 200',
    ]);
  });
});
