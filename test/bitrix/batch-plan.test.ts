import { describe, expect, it } from 'vitest';
import { BatchRef } from '../../src/bitrix/encode.js';
import type { EntryKind, OutboxEntry } from '../../src/bitrix/outbox-entry.js';
import { planBatch, type PlannableQueue } from '../../src/bitrix/outbox/batch-plan.js';

/** The batch planner, pure: which waiting commands leave in the next request, and which wait. */

let seq = 0;
function entry(kind: EntryKind, extra: Partial<OutboxEntry> = {}): OutboxEntry {
  seq++;
  return { seq, key: 'L', kind, method: `m.${kind}`, params: {}, needsCallId: kind !== 'register', attempts: 0, notBefore: 0, createdAt: 0, ...extra };
}

const queue = (entries: OutboxEntry[], extra: Partial<PlannableQueue> = {}): PlannableQueue => ({ entries, inFlight: false, ...extra });
const kinds = (q: PlannableQueue[], now = 100, max = 50, mayResend?: (e: OutboxEntry) => boolean) =>
  planBatch(q, now, max, mayResend).entries.map((p) => p.entry.kind);

describe('the batch planner', () => {
  it.each<[string, () => PlannableQueue[], string[]]>([
    ['a register goes with the shows and hides after it', () => [queue([entry('register'), entry('show'), entry('hide')])], ['register', 'show', 'hide']],
    ['a finish waits for the answer of a register in the same request', () => [queue([entry('register'), entry('show'), entry('finish'), entry('hide')])], ['register', 'show']],
    ['a finish goes once the CALL_ID is known', () => [queue([entry('hide'), entry('finish')], { callId: 'externalCall.1' })], ['hide', 'finish']],
    ['a card without a CALL_ID and without a register waits', () => [queue([entry('show')])], []],
    ['an attachment waits for its own lane', () => [queue([entry('attach'), entry('show')], { callId: 'externalCall.1' })], []],
    ['a call with a request on the wire waits', () => [queue([entry('show')], { callId: 'externalCall.1', inFlight: true })], []],
    ['a command in its backoff holds its call back, others go', () => [queue([entry('show', { notBefore: 500 })], { callId: 'x' }), queue([entry('register')])], ['register']],
  ])('%s', (_name, make, expected) => {
    expect(kinds(make())).toEqual(expected);
  });

  it('refers later commands of a call to the CALL_ID its register returns in the same request', () => {
    const reg = entry('register');
    const plan = planBatch([queue([reg, entry('show')])], 100, 50);
    expect(plan.commands[1]!.params['CALL_ID']).toBeInstanceOf(BatchRef);
    expect(plan.commands[1]!.params['CALL_ID']).toMatchObject({ key: `c${reg.seq}`, path: ['CALL_ID'] });
  });

  it('says when the first command held back by its backoff is due', () => {
    const plan = planBatch([queue([entry('show', { notBefore: 700 })], { callId: 'x' }), queue([entry('hide', { notBefore: 300 })], { callId: 'y' })], 100, 50);
    expect(plan.commands).toEqual([]);
    expect(plan.earliest).toBe(300);
  });

  it('stops at the batch limit, keeping each call in order', () => {
    const q = [queue([entry('register'), entry('show'), entry('hide')]), queue([entry('register'), entry('show')])];
    expect(kinds(q, 100, 4)).toEqual(['register', 'show', 'hide', 'register']);
  });

  it('hands back a register that may no longer be sent, and nothing of its call', () => {
    const stale = entry('register', { uncertain: true });
    const fresh = entry('register');
    const plan = planBatch([queue([stale, entry('show')]), queue([fresh])], 100, 50, (e) => e !== stale);
    expect(plan.stale).toEqual([stale]);
    expect(plan.entries.map((p) => p.entry)).toEqual([fresh]);
  });

  it('holds a command whose user is not known yet, with the rest of its call, and says when to look again', () => {
    const held = (e: OutboxEntry) => (e.userExt !== undefined ? 1_100 : undefined);
    const waiting = queue([entry('register', { userExt: '102' }), entry('show')]);
    const other = queue([entry('register'), entry('show')]);
    const plan = planBatch([waiting, other], 100, 50, () => true, held);
    expect(plan.entries.map((p) => p.entry)).toEqual(other.entries);
    expect(plan.earliest).toBe(1_100);
    // Once the map is known the hold is lifted and it leaves.
    expect(planBatch([waiting], 1_200, 50, () => true, held).entries.map((p) => p.entry.kind)).toEqual(['register', 'show']);
  });
});
