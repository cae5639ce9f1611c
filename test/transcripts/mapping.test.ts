import { describe, expect, it } from 'vitest';
import { MONO_SIDE, sidesOf, toMessages } from '../../src/transcripts/messages.js';
import { transcriptSkip } from '../../src/transcripts/policy.js';
import { segmentsOf, SttError } from '../../src/transcripts/stt-client.js';

describe('segments become MESSAGES', () => {
  it('interleaves the two sides by start time, in whole seconds', () => {
    const out = toMessages(
      [
        { side: 'Client', segments: [{ start: 0.4, end: 2.2, text: ' Hello, do you sell vacuum cleaners?' }, { start: 9.1, end: 10.5, text: 'Bye' }] },
        { side: 'User', segments: [{ start: 2.6, end: 8.9, text: 'Good afternoon.  No,\nsorry.' }] },
      ],
      12,
    );
    expect(out).toEqual([
      { SIDE: 'Client', START_TIME: 0, STOP_TIME: 3, MESSAGE: 'Hello, do you sell vacuum cleaners?' },
      { SIDE: 'User', START_TIME: 2, STOP_TIME: 9, MESSAGE: 'Good afternoon. No, sorry.' },
      { SIDE: 'Client', START_TIME: 9, STOP_TIME: 11, MESSAGE: 'Bye' },
    ]);
  });

  it('clamps times within the call: never negative, never past its duration, the stop at least a second after the start', () => {
    const out = toMessages([{ side: 'User', segments: [{ start: -1, end: 0.2, text: 'a' }, { start: 5.7, end: 9, text: 'b' }, { start: 30, end: 31, text: 'c' }] }], 6);
    expect(out).toEqual([
      { SIDE: 'User', START_TIME: 0, STOP_TIME: 1, MESSAGE: 'a' },
      { SIDE: 'User', START_TIME: 5, STOP_TIME: 6, MESSAGE: 'b' },
      { SIDE: 'User', START_TIME: 5, STOP_TIME: 6, MESSAGE: 'c' },
    ]);
    for (const m of out) {
      expect(m.START_TIME).toBeGreaterThanOrEqual(0);
      expect(m.STOP_TIME).toBeGreaterThanOrEqual(1);
      expect(m.STOP_TIME).toBeLessThanOrEqual(6);
      expect(m.STOP_TIME).toBeGreaterThan(m.START_TIME);
    }
  });

  it('drops empty and blank segments and segments without a usable start; a 0 s call still gets its words at 0-1 s', () => {
    const out = toMessages([{ side: 'Client', segments: [{ start: 0, end: 1, text: '   ' }, { start: Number.NaN, end: 1, text: 'x' }, { start: 0.3, end: 0.9, text: 'Hi' }] }], 0);
    expect(out).toEqual([{ SIDE: 'Client', START_TIME: 0, STOP_TIME: 1, MESSAGE: 'Hi' }]);
    expect(toMessages([{ side: 'User', segments: [] }], 10)).toEqual([]);
  });

  it('keeps the order of equal starts: the server order within a side, then the side listed first', () => {
    const out = toMessages(
      [
        { side: 'Client', segments: [{ start: 1, end: 2, text: 'c1' }, { start: 1, end: 2, text: 'c2' }] },
        { side: 'User', segments: [{ start: 1, end: 2, text: 'u1' }] },
      ],
      5,
    );
    expect(out.map((m) => m.MESSAGE)).toEqual(['c1', 'c2', 'u1']);
  });

  it('names the sides by who was recorded: on the customer channel what it sent is the Client, on the agent channel the User; mono is User', () => {
    expect(sidesOf('customer')).toEqual({ receive: 'Client', transmit: 'User' });
    expect(sidesOf('agent')).toEqual({ receive: 'User', transmit: 'Client' });
    expect(MONO_SIDE).toBe('User');
  });
});

describe("the server's answer", () => {
  it('reads verbose_json segments, skipping malformed ones', () => {
    expect(segmentsOf({ text: 'x', segments: [{ id: 0, start: 0, end: 1.5, text: ' Hi' }, { start: 'a', end: 2, text: 'bad' }, { start: 2, end: 3 }] })).toEqual([{ start: 0, end: 1.5, text: ' Hi' }]);
  });

  it('takes a text-only answer as one segment over its duration, and refuses anything else', () => {
    expect(segmentsOf({ text: 'Hello', duration: 4.2 })).toEqual([{ start: 0, end: 4.2, text: 'Hello' }]);
    expect(() => segmentsOf({ foo: 1 })).toThrow(SttError);
    expect(() => segmentsOf('text')).toThrow(/JSON object/);
  });
});

describe('which calls are transcribed', () => {
  const cfg = { minDurationSec: 5, directions: ['inbound', 'outbound'] as Array<'inbound' | 'outbound'>, queues: [] as string[] };
  const call = { direction: 'inbound' as const, durationSec: 30, answered: true, queue: 'support', recordedOn: 'customer' as const };

  it('answered calls long enough, of a listed direction and queue', () => {
    expect(transcriptSkip(call, cfg)).toBeUndefined();
    expect(transcriptSkip(call, { ...cfg, queues: ['support'] })).toBeUndefined();
  });

  it('never an unanswered one, nor one too short, of another direction or queue, or of unknown facts', () => {
    expect(transcriptSkip({ ...call, answered: false }, cfg)).toBe('not-answered');
    expect(transcriptSkip({ ...call, durationSec: 4 }, cfg)).toBe('too-short');
    expect(transcriptSkip(call, { ...cfg, directions: ['outbound'] })).toBe('direction');
    expect(transcriptSkip(call, { ...cfg, queues: ['sales'] })).toBe('queue');
    const { queue: _q, ...noQueue } = call;
    expect(transcriptSkip(noQueue, { ...cfg, queues: ['sales'] })).toBe('queue');
    expect(transcriptSkip(undefined, cfg)).toBe('unknown-call');
  });
});
