import { afterEach, describe, expect, it } from 'vitest';
import { createBitrixClient } from '../../src/bitrix/client.js';
import { cardParams, finishParams, registerParams, type CommandOptions } from '../../src/bitrix/commands.js';
import { LeakyBucket } from '../../src/bitrix/limiter.js';
import { MemoryOutboxStore } from '../../src/bitrix/outbox-entry.js';
import { Outbox } from '../../src/bitrix/outbox.js';
import { crmSchema } from '../../src/config/crm.js';
import type { Effect } from '../../src/core/effects.js';
import { normalize } from '../../src/core/normalize.js';
import { setupCrm, type Crm } from '../../src/crm/setup.js';
import { startBitrixEmulator, type BitrixEmulator } from '../../src/sim/bitrix-emulator.js';
import { traceMessages, traceTracker } from '../support/traces.js';
import { CRM, get, RULES, silent, USER_EXTENSIONS, USERS } from './harness.js';

/**
 * Recorded Asterisk traces through the real core, the real outbox and the strict emulator, with the CRM hooks
 * wired the way docs/crm.md tells the daemon to (`perform` below is the runtime's perform plus those hooks):
 * the dialplan's lookups, the register's binding, the blacklist, the follow-up task and the timeline comment.
 */

let portal: BitrixEmulator | undefined;
let outbox: Outbox | undefined;
afterEach(async () => {
  outbox?.stop();
  await portal?.close();
  portal = outbox = undefined;
});

const commands: CommandOptions = { addToChat: true, utcOffsetMinutes: 180 };

async function wire(crmConfig: unknown): Promise<{ crm: Crm; play(trace: string): Promise<void> }> {
  portal = await startBitrixEmulator({ users: USERS, crm: CRM, rateLimit: false });
  const client = createBitrixClient({ webhookUrl: portal.webhookUrl, limiter: new LeakyBucket({ perSecond: 50, burst: 100 }), timeoutMs: 5000 });
  let crm: Crm | undefined;
  const box = new Outbox({
    client,
    store: new MemoryOutboxStore(),
    clock: Date.now,
    limiterDelay: () => 0,
    logger: silent,
    lingerMs: 1,
    hooks: { onDelivered: (entry, result) => crm?.onDelivered(entry, result) },
  });
  outbox = box;
  crm = setupCrm(
    { crm: crmSchema.parse(crmConfig), numberRules: RULES, defaultUserId: 1, userExtensions: () => USER_EXTENSIONS, httpAllow: [] },
    { client, enqueue: (key, method, params) => void box.enqueue(key, 'call', method, params, false), logger: silent, utcOffsetMinutes: 180 },
  );
  const c = crm;
  const perform = (effect: Effect): void => {
    c.onEffect(effect);
    if (!c.admit(effect)) return;
    switch (effect.type) {
      case 'register':
        box.enqueue(effect.linkedid, 'register', 'telephony.externalcall.register', { ...registerParams(effect, commands), ...c.registerParams(effect) }, false);
        return;
      case 'show':
      case 'hide':
        box.enqueue(effect.linkedid, effect.type, `telephony.externalcall.${effect.type}`, cardParams(effect));
        return;
      case 'finish':
        box.enqueue(effect.linkedid, 'finish', 'telephony.externalcall.finish', finishParams(effect, commands));
        return;
      default:
        return;
    }
  };
  return {
    crm: c,
    async play(trace) {
      const tracker = traceTracker();
      for (const msg of traceMessages(trace)) {
        const input = normalize(msg, 0);
        if (input) for (const effect of tracker.handle(input)) perform(effect);
      }
      expect(await box.drain(5000)).toBe(true);
    },
  };
}

const routeFor = async (crm: Crm, number: string) => (await crm.routes['GET /route']!(get('/route', { number }))).body;
const callerIdFor = async (crm: Crm, number: string) => (await crm.routes['GET /callerid']!(get('/callerid', { number }))).body;

describe('a known caller nobody answered (caller_abandon)', () => {
  it('is routed, named, bound to the contact without a lead, followed up with a task and noted on the timeline', async () => {
    const { crm, play } = await wire({ missedCall: { enabled: true }, timeline: { enabled: true } });
    // The dialplan, while the caller waits.
    expect(await routeFor(crm, '5553001')).toBe('101');
    expect(await callerIdFor(crm, '5553001')).toBe('Trace Caller');
    await play('caller_abandon');

    const calls = [...portal!.calls.values()];
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ phone: '5553001', crmEntityType: 'CONTACT', crmEntityId: '505', createdLeadId: null, finished: true });
    expect([...portal!.state.crm.LEAD.values()].filter((l) => l.origin === 'register')).toHaveLength(0);
    expect(portal!.state.tasks.map((t) => [t.fields['TITLE'], t.fields['RESPONSIBLE_ID'], t.fields['UF_CRM_TASK']])).toEqual([['Missed call from Trace Caller', '11', ['C_505']]]);
    expect(portal!.state.comments).toEqual([
      { id: 1, entityType: 'contact', entityId: 505, comment: 'Call center: inbound call, nobody answered (304)\nQueue: support\nWaiting time: 8 s\nRung and missed: 101, 102, 103' },
    ]);
    // One search for the whole call: the dialplan's lookups, the register and the follow-up share it.
    expect(portal!.requests.filter((r) => r.restMethod === 'telephony.externalcall.searchcrmentities')).toHaveLength(1);
  });
});

describe('a blacklisted caller (caller_abandon)', () => {
  it('is answered blocked, never reaches Bitrix24, and gets no follow-up', async () => {
    const { crm, play } = await wire({ missedCall: { enabled: true }, timeline: { enabled: true }, blacklist: { numbers: ['5553001'] } });
    expect(await routeFor(crm, '5553001')).toBe('blocked');
    await play('caller_abandon');
    expect(portal!.calls.size).toBe(0);
    expect(portal!.state.tasks).toHaveLength(0);
    expect(portal!.state.comments).toHaveLength(0);
    expect(portal!.requests).toHaveLength(0);
    expect(crm.gate.size).toBe(0);
  });
});

describe('an unknown caller who is answered (support_ringall_answer)', () => {
  it('creates one lead with the configured source, no follow-up, and a timeline note on the new lead', async () => {
    const { play } = await wire({ leads: { source: 'RC_GENERATOR' }, missedCall: { enabled: true }, timeline: { enabled: true } });
    await play('support_ringall_answer');
    const leads = [...portal!.state.crm.LEAD.values()].filter((l) => l.origin === 'register');
    expect(leads).toHaveLength(1);
    expect(leads[0]).toMatchObject({ sourceId: 'RC_GENERATOR', phones: [{ VALUE: '5551001' }] });
    expect(portal!.state.tasks).toHaveLength(0);
    expect(portal!.state.comments).toEqual([
      { id: 1, entityType: 'lead', entityId: leads[0]!.id, comment: 'Call center: inbound call, answered (200)\nQueue: support\nWaiting time: 2 s\nRung and missed: 101, 103\nAnswered by: 102\nTalk time: 5 s' },
    ]);
  });
});

describe('a transferred call from a company (blind_transfer)', () => {
  it('notes the transfer on the company’s timeline', async () => {
    const { play } = await wire({ timeline: { enabled: true } });
    await play('blind_transfer');
    expect(portal!.state.comments.map((c) => [c.entityType, c.entityId, c.comment])).toEqual([
      ['company', 702, 'Call center: inbound call, answered (200)\nQueue: support\nWaiting time: 1 s\nRung and missed: 101\nAnswered by: 102\nTransfer path: 102 → 103\nTalk time: 11 s'],
    ]);
  });
});
