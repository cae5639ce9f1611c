import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, type LogNotice } from '../../src/obs/logger.js';
import { HoldBook } from '../../src/status/holds.js';
import { RecentErrors } from '../../src/status/recent-errors.js';
import { traceMessages } from '../support/traces.js';

/** The live view's recent errors, fed by the daemon's own logger after redaction; and the hold book. */

function logged() {
  const notices: LogNotice[] = [];
  let text = '';
  const destination = new Writable({ write: (chunk: Buffer, _e, done) => void ((text += chunk.toString()), done()) });
  const logger = createLogger({ level: 'info', format: 'json', destination, onNotice: (n) => notices.push(n) });
  return { logger, notices, text: () => text };
}

describe('the logger tells warnings and errors', () => {
  it('after redaction: a secret in the error or the object never reaches the notice', () => {
    const { logger, notices, text } = logged();
    logger.info({}, 'started');
    logger.warn({ err: new Error('POST https://acme.bitrix24.ru/rest/12/q7w8e9r0t1y2u3i4/batch failed\nstack') }, 'portal unreachable');
    logger.error({ secret: 'ami-S3cret-value', code: 'AUTH' }, 'AMI login refused');
    expect(notices.map(({ time: _t, ...n }) => n)).toEqual([
      { level: 'warn', msg: 'portal unreachable', detail: 'POST https://acme.bitrix24.ru/rest/12/***/batch failed' },
      { level: 'error', msg: 'AMI login refused', detail: 'AUTH' },
    ]);
    expect(JSON.stringify(notices)).not.toMatch(/q7w8e9r0t1y2u3i4|ami-S3cret-value/);
    // The log itself is unchanged by the hook.
    expect(text().split('\n').filter(Boolean)).toHaveLength(3);
  });

  it('a child logger (per part, per call) is heard too', () => {
    const { logger, notices } = logged();
    logger.child({ part: 'bitrix' }).child({ linkedid: '1.2' }).error({}, 'finish refused');
    expect(notices.map((n) => n.msg)).toEqual(['finish refused']);
  });
});

describe('RecentErrors', () => {
  it('keeps distinct messages with their count and first and last time, latest first', () => {
    const r = new RecentErrors({ clock: () => 0 });
    r.add({ level: 'warn', time: 1, msg: 'portal unreachable', detail: 'NETWORK' });
    r.add({ level: 'error', time: 2, msg: 'AMI login refused' });
    r.add({ level: 'warn', time: 3, msg: 'portal unreachable', detail: 'NETWORK' });
    expect(r.list()).toEqual([
      { level: 'warn', message: 'portal unreachable: NETWORK', count: 2, firstAt: 1, lastAt: 3 },
      { level: 'error', message: 'AMI login refused', count: 1, firstAt: 2, lastAt: 2 },
    ]);
  });

  it('is bounded: a new message pushes out the one seen least recently', () => {
    const r = new RecentErrors({ max: 2, clock: () => 0 });
    r.add({ level: 'warn', time: 1, msg: 'a' });
    r.add({ level: 'warn', time: 2, msg: 'b' });
    r.add({ level: 'warn', time: 3, msg: 'a' });
    r.add({ level: 'warn', time: 4, msg: 'c' });
    expect(r.list().map((e) => e.message)).toEqual(['c', 'a']);
  });
});

describe('HoldBook', () => {
  const ev = (Event: string, Uniqueid: string, Linkedid = 'L1') => ({ Event, Uniqueid, Linkedid });
  it('a call is on hold from its first held channel until the last one is taken off hold or hangs up', () => {
    let now = 100;
    const h = new HoldBook(() => now);
    h.onEvent(ev('Hold', 'a'));
    now = 200;
    h.onEvent(ev('Hold', 'b'));
    h.onEvent(ev('Hold', 'a')); // repeated: keeps its first time
    expect([...h.held()]).toEqual([['L1', 100]]);
    h.onEvent(ev('Unhold', 'a'));
    expect([...h.held()]).toEqual([['L1', 200]]);
    h.onEvent(ev('Hangup', 'b'));
    expect([...h.held()]).toEqual([]);
    h.onEvent(ev('Newstate', 'c'));
    h.onEvent({ Event: 'Hold', Uniqueid: 'c' }); // no Linkedid: ignored
    expect(h.held().size).toBe(0);
  });

  it('a flood of Holds on one Linkedid keeps at most 32 channels, and the call is still shown on hold', () => {
    let now = 1;
    const h = new HoldBook(() => now++);
    for (let i = 0; i < 10_000; i++) h.onEvent(ev('Hold', `u${i}`));
    expect([...h.held()]).toEqual([['L1', 1]]);
    // The 32 kept channels are what keeps it on hold: when they end, the call is off hold.
    for (let i = 0; i < 32; i++) h.onEvent(ev('Unhold', `u${i}`));
    expect(h.held().size).toBe(0);
  });
});

describe('HoldBook on a recorded trace', () => {
  it('attended_transfer_to_extension: the call is on hold from the agent\'s Hold while it consults, and not after its leg hangs up', () => {
    const h = new HoldBook(() => 7);
    const messages = traceMessages('attended_transfer_to_extension');
    const hold = messages.findIndex((m) => m['Event'] === 'Hold');
    for (const m of messages.slice(0, hold + 1)) h.onEvent(m);
    expect([...h.held()]).toEqual([['1796617168.0', 7]]);
    for (const m of messages.slice(hold + 1)) h.onEvent(m);
    expect(h.held().size).toBe(0);
  });
});
