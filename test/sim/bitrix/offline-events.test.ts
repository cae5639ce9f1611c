import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { BitrixEmulator } from '../../../src/sim/bitrix-emulator.js';
import { callApp, startAppEmulator } from './app-helpers.js';
import { FakeClock, USERS, callJson } from './helpers.js';

let emu: BitrixEmulator | undefined;
let token = '';
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

async function start(options: Parameters<typeof startAppEmulator>[0] = {}, app: Parameters<typeof startAppEmulator>[1] = {}) {
  emu = await startAppEmulator(options, app);
  token = emu.issueAppTokens().accessToken;
}

const call = (method: string, params: Record<string, unknown> = {}) => callApp(emu!, method, params, token);
const click = (n: number) => ({ CALL_ID: `externalCall.${String(n).padStart(32, '0')}.1773130779`, USER_ID: 7 });
const md5 = (s: string) => createHash('md5').update(s).digest('hex');

describe('offline events', () => {
  it('reads and clears by default (clear=1): no process id, and the rows are gone', async () => {
    const clock = new FakeClock();
    await start({ clock: clock.fn });
    emu!.pushOfflineEvent('ONEXTERNALCALLSTART', click(1));
    emu!.pushOfflineEvent('ONEXTERNALCALLSTART', click(2), 7);
    const r = await call('event.offline.get');
    expect(r.status).toBe(200);
    expect(r.body.result).toEqual({
      process_id: null,
      events: [
        {
          ID: '1',
          TIMESTAMP_X: '2026-03-10T11:19:38+03:00',
          EVENT_NAME: 'ONEXTERNALCALLSTART',
          EVENT_DATA: click(1),
          EVENT_ADDITIONAL: { user_id: 1 },
          MESSAGE_ID: md5(`ONEXTERNALCALLSTART|${JSON.stringify(click(1))}`),
        },
        expect.objectContaining({ ID: '2', EVENT_DATA: click(2), EVENT_ADDITIONAL: { user_id: 7 } }),
      ],
    });
    expect(emu!.offlineEvents).toEqual([]);
    expect((await call('event.offline.get')).body.result).toEqual({ process_id: null, events: [] });
  });

  it('with clear=0 marks the rows, hides them from other readers, and clears them on event.offline.clear', async () => {
    await start();
    for (const n of [1, 2, 3]) emu!.pushOfflineEvent('ONEXTERNALCALLSTART', click(n));
    const first = await call('event.offline.get', { clear: 0, limit: 2 });
    const processId = first.body.result.process_id as string;
    expect(processId).toMatch(/^[0-9a-f]{32}$/);
    expect(first.body.result.events.map((e: { ID: string }) => e.ID)).toEqual(['1', '2']);
    // Another reader sees only the unmarked row.
    const second = await call('event.offline.get', { clear: 0 });
    expect(second.body.result.events.map((e: { ID: string }) => e.ID)).toEqual(['3']);
    expect(second.body.result.process_id).not.toBe(processId);
    // The same process can read its rows again.
    const again = await call('event.offline.get', { clear: 0, process_id: processId });
    expect(again.body.result).toEqual({ process_id: processId, events: first.body.result.events });
    expect(emu!.offlineEvents.map((r) => [r.id, r.processId])).toEqual([[1, processId], [2, processId], [3, second.body.result.process_id]]);

    expect((await call('event.offline.clear', { process_id: processId, id: [1] })).body.result).toBe(true);
    expect(emu!.offlineEvents.map((r) => r.id)).toEqual([2, 3]);
    await call('event.offline.clear', { process_id: processId, message_id: [first.body.result.events[1].MESSAGE_ID] });
    expect(emu!.offlineEvents.map((r) => r.id)).toEqual([3]);
    // Clearing with another process id touches nothing.
    await call('event.offline.clear', { process_id: processId });
    expect(emu!.offlineEvents.map((r) => r.id)).toEqual([3]);
    await call('event.offline.clear', { process_id: second.body.result.process_id });
    expect(emu!.offlineEvents).toEqual([]);
  });

  it('merges an identical event into the unfetched row, but not into a marked one', async () => {
    const clock = new FakeClock();
    await start({ clock: clock.fn });
    const first = emu!.pushOfflineEvent('ONEXTERNALCALLSTART', click(1));
    clock.tick(5_000);
    const merged = emu!.pushOfflineEvent('ONEXTERNALCALLSTART', click(1));
    expect(merged.id).toBe(first.id);
    expect(emu!.offlineEvents).toHaveLength(1);
    expect(emu!.offlineEvents[0]?.at).toBe(first.at + 5_000);
    const { process_id: processId } = (await call('event.offline.get', { clear: 0 })).body.result;
    const redelivered = emu!.pushOfflineEvent('ONEXTERNALCALLSTART', click(1));
    expect(redelivered.id).toBe(2);
    expect(emu!.offlineEvents.map((r) => [r.id, r.processId])).toEqual([[1, processId], [2, '']]);
  });

  it('hands marked rows out again after releaseOfflineMarks (a reader that crashed between get and clear)', async () => {
    await start();
    emu!.pushOfflineEvent('ONEXTERNALCALLSTART', click(1));
    const crashed = (await call('event.offline.get', { clear: 0 })).body.result;
    expect((await call('event.offline.get', { clear: 0 })).body.result.events).toEqual([]);
    expect(emu!.releaseOfflineMarks(crashed.process_id)).toBe(1);
    const redelivered = (await call('event.offline.get', { clear: 0 })).body.result;
    expect(redelivered.events).toEqual(crashed.events);
    expect(redelivered.process_id).not.toBe(crashed.process_id);
  });

  it('needs rest_offline_extended for clear=0, and feature.get tells', async () => {
    await start({ offlineExtended: false });
    emu!.pushOfflineEvent('ONEXTERNALCALLSTART', click(1));
    const r = await call('event.offline.get', { clear: 0 });
    expect([r.status, r.body]).toEqual([403, {
      error: 'WRONG_LICENSE',
      error_description: 'This feature is not enabled for the current license: extended offline events handling',
    }]);
    expect(emu!.offlineEvents).toHaveLength(1);
    expect((await call('feature.get', { CODE: 'rest_offline_extended' })).body.result).toEqual({ value: 'N' });
    // clear=1 works on every plan.
    expect((await call('event.offline.get')).body.result.events).toHaveLength(1);
    emu!.setOfflineExtended(true);
    expect((await call('feature.get', { CODE: 'rest_offline_extended' })).body.result).toEqual({ value: 'Y' });
    // The webhook may ask too.
    expect((await callJson(emu!, 'feature.get', { CODE: 'rest_offline_extended' })).body.result).toEqual({ value: 'Y' });
  });

  it.each([
    ['feature.get without CODE', 'feature.get', {}, 400, { error: 'CODE_EMPTY', error_description: "CODE can't be empty" }],
    ['a limit of 0', 'event.offline.get', { limit: 0 }, 400, { error: 'ERROR_ARGUMENT', error_description: 'Value must be positive integer', argument: 'LIMIT' }],
    ['a filter on an unknown field', 'event.offline.get', { filter: { PROCESS_ID: 'x' } }, 400, { error: 'ERROR_ARGUMENT', error_description: 'Filter field not allowed: PROCESS_ID' }],
    ['a filter that is not an array', 'event.offline.get', { filter: 'ID=1' }, 400, { error: 'ERROR_ARGUMENT', error_description: 'The filter is not an array.' }],
    ['a bad order direction', 'event.offline.list', { order: { ID: 'UP' } }, 400, { error: 'ERROR_ARGUMENT', error_description: 'Order direction should be one of {ASC|DESC}' }],
    ['clear without process_id', 'event.offline.clear', {}, 400, { error: 'ERROR_ARGUMENT', error_description: "Argument 'PROCESS_ID' is null or empty", argument: 'PROCESS_ID' }],
    ['clear with a scalar id', 'event.offline.clear', { process_id: 'p', id: 5 }, 400, { error: 'ERROR_ARGUMENT', error_description: 'Value must be array of integers', argument: 'id' }],
    ['clear with a short message id', 'event.offline.clear', { process_id: 'p', message_id: ['abc'] }, 400, { error: 'ERROR_ARGUMENT', error_description: 'Value must be array of MESSAGE_ID values', argument: 'messsage_id' }],
  ])('refuses %s', async (_what, method, params, status, body) => {
    await start();
    emu!.pushOfflineEvent('ONEXTERNALCALLSTART', click(1));
    const r = await call(method, params);
    expect([r.status, r.body]).toEqual([status, body]);
    expect(emu!.offlineEvents).toHaveLength(1);
  });

  it.each(['event.offline.get', 'event.offline.clear', 'event.offline.list'])('refuses %s to a webhook and to a non-admin', async (method) => {
    const users = USERS.map((u) => (u.ID === 7 ? { ...u, ADMIN: false } : u));
    await start({ users });
    const hook = await callJson(emu!, method, { process_id: 'p' });
    expect([hook.status, hook.body]).toEqual([403, { error: 'WRONG_AUTH_TYPE', error_description: 'Current authorization type is denied for this method' }]);
    await emu!.close();
    await start({ users }, { userId: 7 });
    const r = await call(method, { process_id: 'p' });
    expect([r.status, r.body]).toEqual([403, { error: 'ACCESS_DENIED', error_description: 'Access denied!' }]);
  });

  it('filters and orders the rows it hands out', async () => {
    await start();
    emu!.pushOfflineEvent('ONEXTERNALCALLSTART', click(1));
    emu!.pushOfflineEvent('ONEXTERNALCALLBACKSTART', { PHONE_NUMBER: '1' });
    emu!.pushOfflineEvent('ONEXTERNALCALLSTART', click(3));
    const r = await call('event.offline.get', { clear: 0, filter: { EVENT_NAME: 'ONEXTERNALCALLSTART' }, order: { ID: 'DESC' } });
    expect(r.body.result.events.map((e: { ID: string }) => e.ID)).toEqual(['3', '1']);
    const rest = await call('event.offline.get', { filter: { '>=ID': 2 } });
    expect(rest.body.result.events.map((e: { ID: string }) => e.ID)).toEqual(['2']);
  });

  it('lists the queue without touching it, with PROCESS_ID, ERROR and total', async () => {
    await start();
    emu!.pushOfflineEvent('ONEXTERNALCALLSTART', click(1));
    emu!.pushOfflineEvent('ONEXTERNALCALLSTART', click(2));
    const { process_id: processId } = (await call('event.offline.get', { clear: 0, limit: 1 })).body.result;
    const r = await call('event.offline.list');
    expect(r.status).toBe(200);
    expect(r.body.total).toBe(2);
    expect(r.body.next).toBeUndefined();
    expect(r.body.result.map((e: Record<string, unknown>) => [e.ID, e.PROCESS_ID, e.ERROR])).toEqual([['1', processId, '0'], ['2', '', '0']]);
    expect(emu!.offlineEvents).toHaveLength(2);
  });

  it('pages the list by 50 with next', async () => {
    await start();
    for (let n = 1; n <= 55; n++) emu!.pushOfflineEvent('ONEXTERNALCALLSTART', click(n));
    const page1 = await call('event.offline.list');
    expect([page1.body.result.length, page1.body.total, page1.body.next]).toEqual([50, 55, 50]);
    const page2 = await call('event.offline.list', { start: 50 });
    expect([page2.body.result.length, page2.body.next, page2.body.result[0].ID]).toEqual([5, undefined, '51']);
  });
});
