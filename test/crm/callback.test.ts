import { afterEach, describe, expect, it } from 'vitest';
import { MemoryOutboxStore } from '../../src/bitrix/outbox-entry.js';
import { Outbox } from '../../src/bitrix/outbox.js';
import type { CallEnded, CrmBinding } from '../../src/core/effects.js';
import { crmNumber } from '../../src/crm/number.js';
import { Runtime } from '../../src/daemon/runtime.js';
import { silentLogger } from '../support/logger.js';
import { traceTracker } from '../support/traces.js';
import { waitFor } from '../support/wait.js';
import { NUMBERS, RULES, startCrmHarness, type CrmHarness } from './harness.js';

/**
 * Callbacks (ONEXTERNALCALLBACKSTART) are registered like every call: the core emits the register (TYPE 4), the
 * runtime composes it with the CRM's params, the outbox delivers it, and its answer reaches the CRM features. So
 * they get what every other call gets: CRM_CREATE per line, CRM_SOURCE, the form's binding, the timeline.
 */

let h: CrmHarness | undefined;
let outbox: Outbox | undefined;
afterEach(async () => {
  outbox?.stop();
  await h?.close();
  h = outbox = undefined;
});

const REGISTER = 'telephony.externalcall.register';

/** The daemon's path for a callback: service input -> core -> runtime -> outbox -> portal, the CRM hooked in. */
function callbacks(harness: CrmHarness) {
  outbox = new Outbox({
    client: harness.client,
    store: new MemoryOutboxStore(),
    clock: Date.now,
    limiterDelay: () => 0,
    logger: silentLogger,
    lingerMs: 1,
    hooks: { onDelivered: (e, r) => harness.crm.onDelivered(e, r) },
  });
  const runtime = new Runtime({
    tracker: traceTracker(),
    outbox,
    logger: silentLogger,
    clock: Date.now,
    commands: { addToChat: false, utcOffsetMinutes: 180 },
    recordingsEnabled: false,
    onEffect: (e) => harness.crm.onEffect(e),
    registerExtras: (e) => harness.crm.registerParams(e),
  });
  const o = outbox;
  return {
    start(linkedid: string, number: string, lineNumber: string, crmEntity?: CrmBinding): void {
      runtime.handleInput({ kind: 'clickToCall', at: Date.now(), linkedid, ext: '101', userId: 11, number, lineNumber, ...(crmEntity ? { crmEntity } : {}) });
    },
    /** The Originate failed: the core finishes the call (nobody answered it). */
    fail(linkedid: string): void {
      runtime.handleInput({ kind: 'originateFailed', at: Date.now(), linkedid, reason: 8 });
    },
    drained: () => o.drain(3000),
  };
}

function registered(harness: CrmHarness): Array<Record<string, unknown>> {
  return harness.portal.commands.filter((c) => c.method === REGISTER).map((c) => c.params);
}

describe('callbacks and the CRM features', () => {
  it('register with CRM_SOURCE and the per-line CRM_CREATE of crm.leads, like inbound calls', async () => {
    h = await startCrmHarness({ crm: { leads: { source: 'WEBFORM', byLine: { 'no-leads': false } } } });
    const cb = callbacks(h);
    cb.start('cb-1', NUMBERS.unknown, 'sales');
    cb.start('cb-2', '+79995550001', 'no-leads');
    expect(await cb.drained()).toBe(true);
    expect(registered(h).map((p) => [p['TYPE'], p['CRM_SOURCE'], p['CRM_CREATE'], p['EXTERNAL_CALL_ID']])).toEqual([
      ['4', 'WEBFORM', '1', 'cb-1'],
      ['4', 'WEBFORM', '0', 'cb-2'],
    ]);
    expect(h.portal.state.crm.LEAD.size).toBe(CRM_LEADS + 1);
  });

  it("keep the form's CRM entity as the binding, over what a lookup found", async () => {
    h = await startCrmHarness();
    const cb = callbacks(h);
    await h.crm.lookup.resolve(crmNumber(NUMBERS.olga, RULES)!);
    cb.start('cb-3', NUMBERS.olga, '', { type: 'COMPANY', id: 701 });
    expect(await cb.drained()).toBe(true);
    expect(registered(h)).toEqual([expect.objectContaining({ CRM_ENTITY_TYPE: 'COMPANY', CRM_ENTITY_ID: '701' })]);
  });

  it('are registered once, however often the same callback reaches the core', async () => {
    h = await startCrmHarness();
    const cb = callbacks(h);
    cb.start('cb-5', NUMBERS.olga, '');
    cb.start('cb-5', NUMBERS.olga, '');
    expect(await cb.drained()).toBe(true);
    expect(registered(h)).toHaveLength(1);
  });

  it('put the call-center comment on the timeline of the entity the callback was bound to (the register’s answer reached the CRM)', async () => {
    h = await startCrmHarness({ crm: { timeline: { enabled: true } } });
    const cb = callbacks(h);
    cb.start('cb-4', NUMBERS.olga, '', { type: 'CONTACT', id: 501 });
    await waitFor(() => registered(h!).length === 1, 'the register delivered');
    // The call went to the callback queue and nobody answered (what the core reports at its end).
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
    await waitFor(() => h!.portal.state.comments.length > 0, 'the timeline comment');
    expect(await cb.drained()).toBe(true);
    expect(h.portal.state.comments).toEqual([
      { id: 1, entityType: 'contact', entityId: 501, comment: 'Call center: outbound call, nobody answered (304)\nQueue: callbacks\nRung and missed: 101' },
    ]);
  });

  it('are finished by the core when nothing could be rung, after their register', async () => {
    h = await startCrmHarness();
    const cb = callbacks(h);
    cb.start('cb-6', NUMBERS.olga, '');
    cb.fail('cb-6');
    expect(await cb.drained()).toBe(true);
    const seen = h.portal.commands.filter((c) => c.method.startsWith('telephony.externalcall.'));
    expect(seen.map((c) => [c.method.split('.').pop(), c.ok])).toEqual([
      ['register', true],
      ['finish', true],
    ]);
    expect(seen[1]!.params).toMatchObject({ STATUS_CODE: '503', CALL_ID: (seen[0]!.result as { CALL_ID: string }).CALL_ID });
  });
});

const CRM_LEADS = 2;
