import { afterEach, describe, expect, it } from 'vitest';
import { CallTimeline, entityOfRegisterResult, timelineCommentParams } from '../../src/crm/timeline.js';
import type { CallSummary } from '../../src/crm/types.js';
import { NUMBERS, startCrmHarness, type CrmHarness } from './harness.js';

/** Call-center data on the CRM timeline: the comment's text, and waiting for the register's answer. */

const ended = (over: Partial<CallSummary> = {}): CallSummary => ({
  type: 'callEnded',
  linkedid: '1795263564.46',
  direction: 'inbound',
  phoneNumber: NUMBERS.olga,
  status: '304',
  userId: 1,
  durationSec: 0,
  queue: 'support',
  rungExtensions: ['101', '102', '103'],
  answeredBy: [],
  transfers: [],
  ...over,
});

const contact = { entityType: 'CONTACT' as const, entityId: 501 };

let h: CrmHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('timelineCommentParams', () => {
  it('describes a missed queue call: queue, waiting time, everybody rung missed it', () => {
    expect(timelineCommentParams(ended({ waitSec: 8 }), contact)).toEqual({
      fields: {
        ENTITY_TYPE: 'contact',
        ENTITY_ID: 501,
        COMMENT: ['Call center: inbound call, nobody answered (304)', 'Queue: support', 'Waiting time: 8 s', 'Rung and missed: 101, 102, 103'].join('\n'),
      },
    });
  });

  it('with answeredBy, names who missed it, who answered and the transfer path', () => {
    const e = ended({ status: '200', userId: 13, durationSec: 11, waitSec: 3, answeredBy: ['102', '103'], transfers: ['blind:103'] });
    expect(timelineCommentParams(e, { entityType: 'COMPANY', entityId: 701 })?.['fields']).toEqual({
      ENTITY_TYPE: 'company',
      ENTITY_ID: 701,
      COMMENT: [
        'Call center: inbound call, answered (200)',
        'Queue: support',
        'Waiting time: 3 s',
        'Rung and missed: 101',
        'Answered by: 102',
        'Transfer path: 102 → 103',
        'Talk time: 11 s',
      ].join('\n'),
    });
  });

  it('lists the failed transfers next to the transfer path when two or more agents talked', () => {
    const e = ended({ status: '200', durationSec: 40, queue: undefined, rungExtensions: [], answeredBy: ['101', '103'], transfers: ['blind:failed:105', 'attended:failed:104', 'blind:103'] });
    const comment = (timelineCommentParams(e, contact)?.['fields'] as { COMMENT?: string } | undefined)?.COMMENT;
    expect(comment).toBe(
      [
        'Call center: inbound call, answered (200)',
        'Answered by: 101',
        'Transfer path: 101 → 103',
        'Failed transfers: blind to 105, attended to 104',
        'Talk time: 40 s',
      ].join('\n'),
    );
  });

  it('says nothing about a call without call-center data', () => {
    expect(timelineCommentParams(ended({ direction: 'outbound', status: '200', queue: undefined, rungExtensions: [] }), contact)).toBeUndefined();
  });
});

describe('entityOfRegisterResult', () => {
  it('reads the bound entity, and nothing from an unbound or odd answer', () => {
    expect(entityOfRegisterResult({ CALL_ID: 'x', CRM_ENTITY_TYPE: 'LEAD', CRM_ENTITY_ID: 903 })).toEqual({ entityType: 'LEAD', entityId: 903 });
    expect(entityOfRegisterResult({ CRM_ENTITY_TYPE: 'CONTACT', CRM_ENTITY_ID: '501' })).toEqual(contact);
    expect(entityOfRegisterResult({ CRM_ENTITY_TYPE: '', CRM_ENTITY_ID: null })).toBeUndefined();
    expect(entityOfRegisterResult({ CRM_ENTITY_TYPE: null, CRM_ENTITY_ID: null })).toBeUndefined();
    expect(entityOfRegisterResult({ CRM_ENTITY_TYPE: 'DEAL', CRM_ENTITY_ID: 5 })).toBeUndefined();
    expect(entityOfRegisterResult(undefined)).toBeUndefined();
  });
});

describe('CallTimeline', () => {
  const make = (enabled = true) => {
    const sent: Array<[string, string, Record<string, unknown>]> = [];
    let now = 0;
    const t = new CallTimeline({ enabled, enqueue: (...a) => sent.push(a), clock: () => now, pendingTtlMs: 60_000 });
    return { t, sent, advance: (ms: number) => (now += ms) };
  };

  it('posts once the call ended and its register answered, in either order', () => {
    const a = make();
    a.t.onCallEnded(ended({ linkedid: 'one' }));
    expect(a.sent).toHaveLength(0);
    a.t.onRegistered('one', { CRM_ENTITY_TYPE: 'CONTACT', CRM_ENTITY_ID: 501 });
    a.t.onRegistered('two', { CRM_ENTITY_TYPE: 'LEAD', CRM_ENTITY_ID: 903 });
    a.t.onCallEnded(ended({ linkedid: 'two' }));
    expect(a.sent.map(([key, method, p]) => [key, method, (p['fields'] as Record<string, unknown>)['ENTITY_ID']])).toEqual([
      ['crm:one', 'crm.timeline.comment.add', 501],
      ['crm:two', 'crm.timeline.comment.add', 903],
    ]);
    expect(a.t.waiting).toBe(0);
  });

  it('posts nothing for a call bound to no entity, or when disabled', () => {
    const a = make();
    a.t.onRegistered('x', { CRM_ENTITY_TYPE: '', CRM_ENTITY_ID: null });
    a.t.onCallEnded(ended({ linkedid: 'x' }));
    const off = make(false);
    off.t.onCallEnded(ended({ linkedid: 'y' }));
    off.t.onRegistered('y', { CRM_ENTITY_TYPE: 'CONTACT', CRM_ENTITY_ID: 501 });
    expect([a.sent, off.sent]).toEqual([[], []]);
  });

  it('forgets a finished call whose register never answers', () => {
    const a = make();
    a.t.onCallEnded(ended({ linkedid: 'blocked' }));
    a.advance(60_001);
    a.t.onCallEnded(ended({ linkedid: 'later' }));
    expect(a.t.waiting).toBe(1);
    a.t.onRegistered('blocked', { CRM_ENTITY_TYPE: 'CONTACT', CRM_ENTITY_ID: 501 });
    expect(a.sent).toHaveLength(0);
  });
});

describe('the timeline in the portal', () => {
  it("lands the comment on the contact's timeline through the outbox", async () => {
    h = await startCrmHarness({ crm: { timeline: { enabled: true } } });
    const e = ended({ waitSec: 8 });
    h.crm.onEffect(e);
    h.crm.onDelivered({ key: e.linkedid, kind: 'register', params: { PHONE_NUMBER: NUMBERS.olga } }, { CALL_ID: 'externalCall.x.1', CRM_CREATED_LEAD: null, CRM_ENTITY_TYPE: 'CONTACT', CRM_ENTITY_ID: 501 });
    expect(await h.outbox.drain(3000)).toBe(true);
    expect(h.portal.state.comments).toEqual([
      { id: 1, entityType: 'contact', entityId: 501, comment: 'Call center: inbound call, nobody answered (304)\nQueue: support\nWaiting time: 8 s\nRung and missed: 101, 102, 103' },
    ]);
  });
});
