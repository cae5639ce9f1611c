import { afterEach, describe, expect, it } from 'vitest';
import { numberRulesSchema } from '../../src/config/http.js';
import type { Effect } from '../../src/core/effects.js';
import { Blacklist } from '../../src/crm/blacklist.js';
import { crmNumber } from '../../src/crm/number.js';
import { RegisterGate } from '../../src/crm/register-gate.js';
import type { BitrixClient } from '../../src/bitrix/client.js';
import { get, NUMBERS, RULES, startCrmHarness, type CrmHarness } from './harness.js';

/** The blacklist: exact numbers and prefixes, and blocked callers kept out of Bitrix24. */

const n = (raw: string) => crmNumber(raw, RULES)!;

let h: CrmHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('Blacklist', () => {
  it('matches exact numbers in any spelling the number rules make equal', () => {
    const list = new Blacklist({ numbers: ['89997770000', '5551001'], prefixes: [] }, RULES);
    expect(list.isBlocked(n('+79997770000'))).toBe(true);
    expect(list.isBlocked(n('7 999 777 00 00'))).toBe(true);
    expect(list.isBlocked(n('5551001'))).toBe(true);
    expect(list.isBlocked(n('+79997770001'))).toBe(false);
    expect(list.isBlocked(n('55510011'))).toBe(false);
  });

  it('matches prefixes, written with the trunk prefix or with +', () => {
    const list = new Blacklist({ numbers: [], prefixes: ['8809', '+7803', '1900'] }, RULES);
    expect(list.isBlocked(n('+78091234567'))).toBe(true);
    expect(list.isBlocked(n('88031234567'))).toBe(true);
    expect(list.isBlocked(n('19005551234'))).toBe(true);
    expect(list.isBlocked(n('+78001234567'))).toBe(false);
    expect(list.size).toBe(3);
  });

  it('without trunk rules compares digits only, so + makes no difference', () => {
    const plain = numberRulesSchema.parse({});
    const list = new Blacklist({ numbers: ['+4930123456'], prefixes: [] }, plain);
    expect(list.isBlocked(crmNumber('4930123456', plain)!)).toBe(true);
  });

  it('refuses at start an entry the number rules cannot read', () => {
    expect(() => new Blacklist({ numbers: ['12'], prefixes: [] }, RULES)).toThrow(/crm\.blacklist\.numbers: "12" is not a valid number/);
  });
});

describe('RegisterGate', () => {
  const blocked = new Blacklist({ numbers: [NUMBERS.blacklisted], prefixes: [] }, RULES);
  const gate = (enabled = true) => new RegisterGate({ enabled, toNumber: (raw) => crmNumber(raw, RULES), isBlocked: (x) => blocked.isBlocked(x) });
  const call = (linkedid: string, phoneNumber: string, callType: 1 | 2 = 2): Effect[] => [
    { type: 'register', linkedid, userId: 1, phoneNumber, callType, lineNumber: '', startedAt: 0, crmCreate: true },
    { type: 'show', linkedid, userIds: [11] },
    { type: 'hide', linkedid, userIds: [11] },
    { type: 'finish', linkedid, userId: 1, durationSec: 0, status: '304' },
    { type: 'attachRecording', linkedid, path: '/x.wav', endedAt: 0, call: { direction: 'inbound', durationSec: 6, answered: true, recordedOn: 'customer' } },
    { type: 'callEnded', linkedid, direction: callType === 2 ? 'inbound' : 'outbound', phoneNumber, status: '304', userId: 1, durationSec: 0, rungExtensions: ['101'], answeredBy: [], transfers: [] },
  ];

  it("drops every Bitrix24 command of a blocked caller's call, and lets callEnded through", () => {
    const g = gate();
    expect(call('a', '89997770000').map((e) => [e.type, g.admit(e)])).toEqual([
      ['register', false],
      ['show', false],
      ['hide', false],
      ['finish', false],
      ['attachRecording', false],
      ['callEnded', true],
    ]);
    expect(g.size).toBe(0);
  });

  it('lets other calls, outbound calls to a blocked number, and anonymous callers through', () => {
    const g = gate();
    expect(call('b', NUMBERS.olga).every((e) => g.admit(e))).toBe(true);
    expect(call('c', NUMBERS.blacklisted, 1).every((e) => g.admit(e))).toBe(true);
    expect(call('d', '0').every((e) => g.admit(e))).toBe(true);
  });

  it('registers blocked callers as usual when skipRegistration is off', () => {
    const g = gate(false);
    expect(call('e', NUMBERS.blacklisted).every((e) => g.admit(e))).toBe(true);
  });

  it('keeps its memory bounded when calls never end', () => {
    const g = new RegisterGate({ enabled: true, toNumber: (raw) => crmNumber(raw, RULES), isBlocked: () => true, maxCalls: 2 });
    for (const id of ['1', '2', '3']) g.admit(call(id, NUMBERS.olga)[0]!);
    expect(g.size).toBe(2);
    // The oldest was forgotten: its later commands pass (they then wait for a CALL_ID, as any unregistered call's).
    expect(g.admit(call('1', NUMBERS.olga)[1]!)).toBe(true);
    expect(g.admit(call('3', NUMBERS.olga)[1]!)).toBe(false);
  });

  it("skips a caller the CRM marks as blocked once the dialplan's lookup has read the field", async () => {
    const wrapClient = (c: BitrixClient): BitrixClient => ({
      ...c,
      async call<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
        const result = await c.call<Record<string, unknown>>(method, params);
        return (method === 'crm.contact.get' ? { ...result, UF_CRM_SPAM: 'Y' } : result) as T;
      },
    });
    h = await startCrmHarness({ crm: { blacklist: { crmField: 'UF_CRM_SPAM' } }, wrapClient });
    // Before any lookup nothing is known, and registration never waits for the portal.
    expect(h.crm.admit(call('f', NUMBERS.blockedContact)[0]!)).toBe(true);
    expect((await h.crm.routes['GET /route']!(get('/route', { number: NUMBERS.blockedContact }))).body).toBe('blocked');
    expect(h.crm.admit(call('g', NUMBERS.blockedContact)[0]!)).toBe(false);
  });
});
