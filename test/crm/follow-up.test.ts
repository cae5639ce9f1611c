import { afterEach, describe, expect, it } from 'vitest';
import type { CallSummary } from '../../src/crm/types.js';
import { NUMBERS, startCrmHarness, type CrmHarness, type HarnessOptions } from './harness.js';
import { waitFor } from '../support/wait.js';

/**
 * Missed-call follow-ups through the real outbox into the strict emulator: a task or a notification for the
 * number's manager, once per number within the window.
 */

let h: CrmHarness | undefined;
afterEach(async () => {
  h?.portal.faults.setUp();
  await h?.close();
  h = undefined;
});

async function start(missedCall: Record<string, unknown> = {}, o: HarnessOptions = {}): Promise<CrmHarness> {
  h = await startCrmHarness({ manualClock: true, ...o, crm: { missedCall: { enabled: true, ...missedCall }, ...(o.crm as object | undefined) } });
  return h;
}

let seq = 0;
const missed = (phoneNumber: string, over: Partial<CallSummary> = {}): CallSummary => ({
  type: 'callEnded',
  linkedid: `1773133200.${++seq}`,
  direction: 'inbound',
  phoneNumber,
  status: '304',
  userId: 1,
  durationSec: 0,
  queue: 'support',
  rungExtensions: ['101', '102'],
  answeredBy: [],
  transfers: [],
  ...over,
});

async function delivered(): Promise<void> {
  expect(await h!.outbox.drain(3000)).toBe(true);
}

describe('missed-call tasks', () => {
  it("creates a task for the number's responsible manager, bound to the client and due the next day", async () => {
    await start();
    const outcome = await h!.crm.followUp.onCallEnded(missed(NUMBERS.olga, { waitSec: 35 }));
    expect(outcome).toMatchObject({ sent: 'task', userId: 11 });
    await delivered();
    expect(h!.portal.state.tasks).toHaveLength(1);
    expect(h!.portal.state.tasks[0]!.fields).toEqual({
      TITLE: 'Missed call from Olga Client',
      RESPONSIBLE_ID: '11',
      DESCRIPTION: [
        'Missed inbound call from +79990001111: Olga Client (contact #501).',
        'When: 2026-03-10 12:00 (UTC+03:00)',
        'Status: 304 (nobody answered)',
        'Queue: support, waited 35 s',
        'Rung: 101, 102',
      ].join('\n'),
      DEADLINE: '2026-03-11T12:00:00+03:00',
      UF_CRM_TASK: ['C_501'],
    });
  });

  it('makes no second task for the same number within the window, and a new one after it', async () => {
    await start({ dedupWindowSec: 3600 });
    expect(await h!.crm.followUp.onCallEnded(missed(NUMBERS.olga))).toMatchObject({ sent: 'task' });
    h!.clock.advance(3_599_000);
    // Another spelling of the same number is the same customer.
    expect(await h!.crm.followUp.onCallEnded(missed('89990001111'))).toEqual({ skipped: 'duplicate' });
    h!.clock.advance(1_000);
    expect(await h!.crm.followUp.onCallEnded(missed(NUMBERS.olga))).toMatchObject({ sent: 'task' });
    await delivered();
    expect(h!.portal.state.tasks).toHaveLength(2);
  });

  it('gives another number its own task within the same window', async () => {
    await start();
    await h!.crm.followUp.onCallEnded(missed(NUMBERS.olga));
    await h!.crm.followUp.onCallEnded(missed(NUMBERS.acme));
    await delivered();
    // Two calls' commands may travel in two requests at once: compare without order.
    const tasks = h!.portal.state.tasks.map((t) => [t.fields['RESPONSIBLE_ID'], t.fields['UF_CRM_TASK']]);
    expect(tasks.sort()).toEqual([
      ['11', ['C_501']],
      ['12', ['CO_701']],
    ]);
  });

  it('makes one task when two missed calls from one number end at the same moment', async () => {
    await start();
    const outcomes = await Promise.all([h!.crm.followUp.onCallEnded(missed(NUMBERS.olga)), h!.crm.followUp.onCallEnded(missed(NUMBERS.olga))]);
    expect(outcomes.filter((o) => 'sent' in o)).toHaveLength(1);
  });

  it('gives numbers without a manager to missedCall.userId, or else to bitrix.defaultUserId', async () => {
    await start();
    expect(await h!.crm.followUp.onCallEnded(missed(NUMBERS.unknown))).toMatchObject({ sent: 'task', userId: 1 });
    // The responsible of this contact is no portal user.
    expect(await h!.crm.followUp.onCallEnded(missed(NUMBERS.orphan))).toMatchObject({ sent: 'task', userId: 1 });
    await delivered();
    expect(h!.portal.state.tasks.map((t) => t.fields['RESPONSIBLE_ID'])).toEqual(['1', '1']);
    const unknown = h!.portal.state.tasks.find((t) => t.fields['TITLE'] === `Missed call from ${NUMBERS.unknown}`);
    expect(unknown?.fields['UF_CRM_TASK']).toBeUndefined();

    await h!.close();
    await start({ userId: 14, titleTemplate: 'Call back {number} ({queue})', deadlineHours: 0 });
    await h!.crm.followUp.onCallEnded(missed(NUMBERS.unknown));
    await delivered();
    expect(h!.portal.state.tasks[0]!.fields).toMatchObject({ RESPONSIBLE_ID: '14', TITLE: `Call back ${NUMBERS.unknown} (support)` });
    expect(h!.portal.state.tasks[0]!.fields['DEADLINE']).toBeUndefined();
  });

  it('still follows up, to the default user, when the portal cannot say who is responsible', async () => {
    await start();
    h!.portal.faults.setDown(503);
    expect(await h!.crm.followUp.onCallEnded(missed(NUMBERS.olga))).toMatchObject({ sent: 'task', userId: 1 });
    // The outbox keeps the task while the portal is down, and delivers it once it is back.
    await waitFor(() => h!.portal.requests.some((r) => r.restMethod === 'batch' && r.status === 503), 'the batch the portal refused with 503', 3000);
    expect(h!.portal.state.tasks).toHaveLength(0);
    h!.portal.faults.setUp();
    await delivered();
    expect(h!.portal.state.tasks.map((t) => t.fields['RESPONSIBLE_ID'])).toEqual(['1']);
  });
});

describe('missed-call notifications', () => {
  it('notifies the responsible manager instead when action is notify', async () => {
    await start({ action: 'notify' });
    expect(await h!.crm.followUp.onCallEnded(missed(NUMBERS.acme, { status: '486', queue: undefined, rungExtensions: ['102'] }))).toMatchObject({
      sent: 'notify',
      userId: 12,
    });
    await delivered();
    expect(h!.portal.state.tasks).toHaveLength(0);
    expect(h!.portal.state.notifications).toHaveLength(1);
    const note = h!.portal.state.notifications[0]!;
    expect(note.userId).toBe(12);
    expect(note.message).toBe(
      [
        'Missed call from Acme LLC',
        'Missed inbound call from +74950001000: Acme LLC (company #701).',
        'When: 2026-03-10 12:00 (UTC+03:00)',
        'Status: 486 (busy)',
        'Rung: 102',
      ].join('\n'),
    );
  });

  it('deduplicates notifications per number too', async () => {
    await start({ action: 'notify', dedupWindowSec: 600 });
    await h!.crm.followUp.onCallEnded(missed(NUMBERS.acme));
    h!.clock.advance(599_000);
    expect(await h!.crm.followUp.onCallEnded(missed(NUMBERS.acme))).toEqual({ skipped: 'duplicate' });
    h!.clock.advance(1_000);
    await h!.crm.followUp.onCallEnded(missed(NUMBERS.acme));
    await delivered();
    expect(h!.portal.state.notifications).toHaveLength(2);
  });
});

describe('calls that get no follow-up', () => {
  it('ignores answered and outbound calls, anonymous and blocked callers, and everything when disabled', async () => {
    await start({}, { crm: { blacklist: { numbers: [NUMBERS.blacklisted] } } });
    const f = h!.crm.followUp;
    expect(await f.onCallEnded(missed(NUMBERS.olga, { status: '200', durationSec: 30 }))).toEqual({ skipped: 'not-missed' });
    expect(await f.onCallEnded(missed(NUMBERS.olga, { direction: 'outbound' }))).toEqual({ skipped: 'not-missed' });
    expect(await f.onCallEnded(missed(''))).toEqual({ skipped: 'anonymous' });
    expect(await f.onCallEnded(missed(NUMBERS.blacklisted))).toEqual({ skipped: 'blocked' });
    await h!.close();
    h = await startCrmHarness({ manualClock: true });
    expect(await h.crm.followUp.onCallEnded(missed(NUMBERS.olga))).toEqual({ skipped: 'disabled' });
    await h.outbox.drain(500);
    expect(h.portal.requests).toHaveLength(0);
  });

  it('counts only the configured statuses as missed', async () => {
    await start({ statuses: ['304'] });
    expect(await h!.crm.followUp.onCallEnded(missed(NUMBERS.olga, { status: '486' }))).toEqual({ skipped: 'not-missed' });
    expect(await h!.crm.followUp.onCallEnded(missed(NUMBERS.olga, { status: '304' }))).toMatchObject({ sent: 'task' });
  });
});
