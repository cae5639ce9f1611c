import { describe, expect, it } from 'vitest';
import type { Outbox } from '../../src/bitrix/outbox.js';
import { Runtime } from '../../src/daemon/runtime.js';
import { captureDaemonLogger } from '../support/logger.js';
import { traceMessages, traceTracker } from '../support/traces.js';

/** What an admin greps the journal for: every line about a call carries its linkedid, from a child logger per call. */

function runTrace(name: string) {
  const { logger, lines } = captureDaemonLogger('debug');
  const enqueued: string[] = [];
  const outbox = { enqueue: (key: string) => void enqueued.push(key), bindCallId: () => undefined } as unknown as Outbox;
  const runtime = new Runtime({ tracker: traceTracker(), outbox, logger, clock: () => 0, commands: { addToChat: true }, recordingsEnabled: true });
  for (const msg of traceMessages(name)) runtime.handleAmiEvent(msg);
  return { lines: lines(), enqueued };
}

describe('the journal of a call', () => {
  it('carries the linkedid on every line of the call: registered, each card shown and hidden, finished', () => {
    const { lines, enqueued } = runTrace('support_ringall_answer');
    const about = lines.filter((l) => ['call registered', 'card shown', 'card hidden', 'call finished'].includes(String(l['msg'])));
    expect(about.map((l) => l['msg'])).toEqual(['call registered', 'card shown', 'card shown', 'card shown', 'card hidden', 'card hidden', 'call finished']);
    for (const l of about) expect(l['linkedid']).toBe('1795263470.0');
    expect(about.find((l) => l['msg'] === 'call finished')).toMatchObject({ status: '200', userId: 12, duration: 5 });
    expect(new Set(enqueued)).toEqual(new Set(['1795263470.0']));
  });

  it('keeps calls apart: each of the three sales calls logs under its own linkedid', () => {
    const { lines } = runTrace('sales_leastrecent_ringback');
    const finished = lines.filter((l) => l['msg'] === 'call finished').map((l) => l['linkedid']);
    expect(finished).toHaveLength(3);
    expect(new Set(finished).size).toBe(3);
  });
});
