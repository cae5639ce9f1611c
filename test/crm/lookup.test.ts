import { describe, expect, it } from 'vitest';
import { CrmLookup, primaryMatch, type CrmLookupOptions } from '../../src/crm/lookup.js';
import type { CrmNumber } from '../../src/crm/number.js';

/**
 * CrmLookup's own rules with a scripted portal (the emulator tests are in routes.test.ts): the bounds that keep a
 * hung portal from piling up work, and reading searchCrmEntities answers as real portals send them.
 */

const num = (digits: string): CrmNumber => ({ number: `+${digits}`, key: digits });

/** A portal whose answers the test releases by hand. */
function scripted() {
  const pending: Array<{ params: Record<string, unknown>; resolve: (v: unknown) => void; reject: (e: Error) => void }> = [];
  const client: CrmLookupOptions['client'] = {
    call: <T>(_method: string, params: Record<string, unknown> = {}) =>
      new Promise<T>((resolve, reject) => pending.push({ params, resolve: resolve as (v: unknown) => void, reject })),
  };
  return { client, pending };
}

const entry = (type: string, id: number | string, responsible: number | string = 11) => ({
  CRM_ENTITY_TYPE: type,
  CRM_ENTITY_ID: id,
  ASSIGNED_BY_ID: responsible,
  NAME: `${type} ${id}`,
  ASSIGNED_BY: { ID: String(responsible), TIMEMAN_STATUS: 'OPENED', USER_PHONE_INNER: '101' },
});

describe('CrmLookup', () => {
  it('answers unknown at once when too many different numbers are already being looked up', async () => {
    const portal = scripted();
    const lookup = new CrmLookup({ client: portal.client, clock: () => 0, deadlineMs: 20, ttlMs: 1000, negativeTtlMs: 1000, maxInFlight: 2 });
    await Promise.all([lookup.find(num('1001001')), lookup.find(num('1001002'))]);
    expect(await lookup.find(num('1001003'))).toEqual({ kind: 'unknown', reason: 'busy' });
    expect(portal.pending).toHaveLength(2);
    portal.pending[0]!.resolve([]);
    await lookup.resolve(num('1001001'));
    expect(lookup.stats).toMatchObject({ requests: 2, deadlines: 2 });
  });

  it('keeps at most maxEntries answers, forgetting the oldest first', async () => {
    const portal = scripted();
    const lookup = new CrmLookup({ client: portal.client, clock: () => 0, deadlineMs: 1000, ttlMs: 1000, negativeTtlMs: 1000, maxEntries: 2 });
    for (const d of ['2002001', '2002002', '2002003']) {
      const p = lookup.resolve(num(d));
      portal.pending.at(-1)!.resolve([]);
      await p;
    }
    expect([lookup.peek(num('2002001')), lookup.peek(num('2002002')), lookup.peek(num('2002003'))]).toEqual([undefined, { kind: 'none' }, { kind: 'none' }]);
  });

  it('waits for the portal in resolve(), past the deadline that find() keeps', async () => {
    const portal = scripted();
    const lookup = new CrmLookup({ client: portal.client, clock: () => 0, deadlineMs: 10, ttlMs: 1000, negativeTtlMs: 1000 });
    const slow = lookup.resolve(num('3003001'));
    expect(await lookup.find(num('3003001'))).toEqual({ kind: 'unknown', reason: 'deadline' });
    portal.pending[0]!.resolve([entry('CONTACT', 7)]);
    expect(await slow).toMatchObject({ kind: 'found', match: { entityType: 'CONTACT', entityId: 7 } });
    expect(portal.pending).toHaveLength(1);
  });

  it('caches nothing when a TTL is 0', async () => {
    const portal = scripted();
    const lookup = new CrmLookup({ client: portal.client, clock: () => 0, deadlineMs: 1000, ttlMs: 0, negativeTtlMs: 0 });
    const p = lookup.resolve(num('4004001'));
    portal.pending[0]!.resolve([]);
    await p;
    expect(lookup.peek(num('4004001'))).toBeUndefined();
  });
});

describe('primaryMatch', () => {
  it('picks the contact, then the company, then the lead, and reads string ids', () => {
    expect(primaryMatch([entry('LEAD', '9'), entry('COMPANY', '5', '12'), entry('CONTACT', '3')])).toMatchObject({ entityType: 'CONTACT', entityId: 3 });
    expect(primaryMatch([entry('LEAD', '9'), entry('COMPANY', '5', '12')])).toEqual({
      entityType: 'COMPANY',
      entityId: 5,
      name: 'COMPANY 5',
      responsibleId: 12,
      responsibleInner: '101',
      timemanStatus: 'OPENED',
      blocked: false,
    });
  });

  it('knows no responsible when ASSIGNED_BY says the user is gone, and no extension when the user has none', () => {
    const gone = { ...entry('CONTACT', 1), ASSIGNED_BY: { ID: null, TIMEMAN_STATUS: null, USER_PHONE_INNER: null } };
    expect(primaryMatch([gone])).toEqual({ entityType: 'CONTACT', entityId: 1, name: 'CONTACT 1', blocked: false });
    const noInner = { ...entry('CONTACT', 2), ASSIGNED_BY: { ID: '11', USER_PHONE_INNER: null } };
    expect(primaryMatch([noInner])).toEqual({ entityType: 'CONTACT', entityId: 2, name: 'CONTACT 2', responsibleId: 11, blocked: false });
  });

  it('finds nothing in an empty or malformed answer', () => {
    expect(primaryMatch([])).toBeUndefined();
    expect(primaryMatch({})).toBeUndefined();
    expect(primaryMatch([null, 'x', { CRM_ENTITY_TYPE: 'DEAL', CRM_ENTITY_ID: 1 }, { CRM_ENTITY_TYPE: 'CONTACT', CRM_ENTITY_ID: 0 }])).toBeUndefined();
  });
});
