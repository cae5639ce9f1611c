import { afterEach, describe, expect, it } from 'vitest';
import { callbackRegistrar } from '../../src/clicktocall/portal.js';
import type { CallEnded } from '../../src/core/effects.js';
import { crmNumber } from '../../src/crm/number.js';
import { NUMBERS, RULES, startCrmHarness, type CrmHarness } from './harness.js';

/**
 * Callbacks (ONEXTERNALCALLBACKSTART) are registered by the HTTP side, not the outbox; they must still get the CRM
 * features every other call gets: CRM_CREATE per line, CRM_SOURCE, and the register's answer for the timeline.
 */

let h: CrmHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const REGISTER = 'telephony.externalcall.register';
const base = { userId: 11, startedAt: Date.parse('2026-03-10T09:00:00Z') };

function registered(harness: CrmHarness): Array<Record<string, unknown>> {
  return harness.portal.requests.filter((r) => r.restMethod === REGISTER).map((r) => r.params as Record<string, unknown>);
}

describe('callbacks and the CRM features', () => {
  it('register with CRM_SOURCE and the per-line CRM_CREATE of crm.leads, like inbound calls', async () => {
    h = await startCrmHarness({ crm: { leads: { source: 'WEBFORM', byLine: { 'no-leads': false } } } });
    const register = callbackRegistrar(h.client, { addToChat: false }, true, h.crm);
    await register({ ...base, linkedid: 'cb-1', phoneNumber: NUMBERS.unknown, lineNumber: 'sales' });
    await register({ ...base, linkedid: 'cb-2', phoneNumber: '+79995550001', lineNumber: 'no-leads' });
    expect(registered(h).map((p) => [p['TYPE'], p['CRM_SOURCE'], p['CRM_CREATE']])).toEqual([
      [4, 'WEBFORM', 1],
      [4, 'WEBFORM', 0],
    ]);
    expect(h.portal.state.crm.LEAD.size).toBe(CRM_LEADS + 1);
  });

  it("keep the form's CRM entity as the binding, over what a lookup found", async () => {
    h = await startCrmHarness();
    const register = callbackRegistrar(h.client, { addToChat: false }, true, h.crm);
    await h.crm.lookup.resolve(crmNumber(NUMBERS.olga, RULES)!);
    await register({ ...base, linkedid: 'cb-3', phoneNumber: NUMBERS.olga, lineNumber: '', crmEntityType: 'COMPANY', crmEntityId: 701 });
    expect(registered(h)[0]).toMatchObject({ CRM_ENTITY_TYPE: 'COMPANY', CRM_ENTITY_ID: 701 });
  });

  it('put the call-center comment on the timeline of the entity the callback was bound to', async () => {
    h = await startCrmHarness({ crm: { timeline: { enabled: true } } });
    const register = callbackRegistrar(h.client, { addToChat: false }, true, h.crm);
    await register({ ...base, linkedid: 'cb-4', phoneNumber: NUMBERS.olga, lineNumber: '', crmEntityType: 'CONTACT', crmEntityId: 501 });
    const end: CallEnded = {
      type: 'callEnded',
      linkedid: 'cb-4',
      direction: 'outbound',
      phoneNumber: NUMBERS.olga,
      status: '304',
      userId: 11,
      durationSec: 0,
      queue: 'callbacks',
      rungExtensions: ['101'],
      answeredBy: [],
      transfers: [],
    };
    h.crm.onEffect(end);
    expect(await h.outbox.drain(3000)).toBe(true);
    expect(h.portal.state.comments).toEqual([
      { id: 1, entityType: 'contact', entityId: 501, comment: 'Call center: outbound call, nobody answered (304)\nQueue: callbacks\nRung and missed: 101' },
    ]);
  });
});

const CRM_LEADS = 2;
