import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BatchCommand, BitrixClient } from '../../src/bitrix/client.js';
import { Outbox } from '../../src/bitrix/outbox.js';
import { kvGet, kvSet, openStateDb, StateDirError } from '../../src/store/db.js';
import { SqliteOutboxStore } from '../../src/store/sqlite-outbox-store.js';
import { removeTempDirs, tempDir } from '../support/tmp.js';
import { silentLogger } from '../support/logger.js';


function okClient(batches: BatchCommand[][] = []): BitrixClient {
  return {
    call: async () => undefined as never,
    batch: async (cmds) => {
      batches.push(cmds);
      return { results: Object.fromEntries(cmds.map((c) => [c.key, c.method.endsWith('register') ? { CALL_ID: 'externalCall.z' } : true])), errors: {} };
    },
  };
}

afterAll(removeTempDirs);

describe('the SQLite state store', () => {
  it('keeps waiting commands, CALL_IDs, marks and parked commands across a reopen', () => {
    const dir = join(tempDir('b24store-'), 'state');
    const errors: string[] = [];
    let db = openStateDb(dir);
    let store = new SqliteOutboxStore(db, (e) => errors.push(e.message));
    store.put({ seq: 1, key: 'L1', kind: 'register', method: 'telephony.externalcall.register', params: { PHONE_NUMBER: '1' }, needsCallId: false, attempts: 2, notBefore: 5, createdAt: 1, uncertain: true });
    store.put({ seq: 2, key: 'L1', kind: 'finish', method: 'telephony.externalcall.finish', params: { USER_ID: 3 }, needsCallId: true, attempts: 0, notBefore: 0, createdAt: 2 });
    store.setCallId('L0', 'externalCall.a');
    store.mark('L1', 'register', Date.now());
    store.park({ seq: 3, key: 'L2', kind: 'show', method: 'telephony.externalcall.show', params: { USER_ID: [1] }, needsCallId: true, attempts: 1, notBefore: 0, createdAt: 3, parkedAt: 4, error: 'CONTRACT: x' });
    kvSet(db, 'core.snapshot', { a: 1 }, 5);
    store.flush(); // what a turn wrote is committed at its end; the daemon flushes before closing
    db.close();

    db = openStateDb(dir);
    store = new SqliteOutboxStore(db, (e) => errors.push(e.message));
    const loaded = store.load();
    expect(loaded.entries.map((e) => [e.seq, e.kind, e.attempts, e.uncertain ?? false])).toEqual([
      [1, 'register', 2, true],
      [2, 'finish', 0, false],
    ]);
    expect(loaded.callIds).toEqual([['L0', 'externalCall.a']]);
    expect(loaded.parked).toEqual([expect.objectContaining({ seq: 3, error: 'CONTRACT: x', parkedAt: 4 })]);
    expect(store.isMarked('L1', 'register')).toBe(true);
    expect(store.isMarked('L1', 'finish')).toBe(false);
    expect(kvGet(db, 'core.snapshot')).toEqual({ a: 1 });
    expect(errors).toEqual([]);
    db.close();
  });

  it('reports a failing disk and lets the outbox go on delivering from memory', async () => {
    const db = openStateDb(join(tempDir('b24store-'), 'state'));
    const errors: string[] = [];
    const store = new SqliteOutboxStore(db, (e, op) => errors.push(`${op}: ${e.message}`));
    const empty = store.load();
    store.load = () => empty;
    db.close(); // every write now fails, as on a full or read-only disk
    const batches: BatchCommand[][] = [];
    const outbox = new Outbox({ client: okClient(batches), store, clock: Date.now, limiterDelay: () => 0, logger: silentLogger, lingerMs: 1 });
    outbox.enqueue('L1', 'register', 'telephony.externalcall.register', {}, false);
    outbox.enqueue('L1', 'finish', 'telephony.externalcall.finish', { USER_ID: 1 });
    expect(await outbox.drain(1000)).toBe(true);
    expect(batches.flat().map((c) => c.method)).toEqual(['telephony.externalcall.register', 'telephony.externalcall.finish']);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatch(/^isMarked: The database connection is not open/);
    expect(errors.some((e) => e.startsWith('put: '))).toBe(true);
  });

  it('commits what one event-loop turn wrote in one transaction, at the end of the turn', async () => {
    const dir = join(tempDir('b24store-'), 'state');
    const db = openStateDb(dir);
    const store = new SqliteOutboxStore(db, (e) => {
      throw e;
    });
    store.put({ seq: 1, key: 'L1', kind: 'show', method: 'telephony.externalcall.show', params: { USER_ID: [1] }, needsCallId: true, attempts: 0, notBefore: 0, createdAt: 1 });
    store.put({ seq: 2, key: 'L1', kind: 'hide', method: 'telephony.externalcall.hide', params: { USER_ID: [1] }, needsCallId: true, attempts: 0, notBefore: 0, createdAt: 2 });
    expect(db.inTransaction).toBe(true);
    // A second connection (the parked CLI) sees nothing until the turn ends, then both rows.
    const other = openStateDb(dir);
    expect(other.prepare('SELECT count(*) AS n FROM outbox').get()).toEqual({ n: 0 });
    await new Promise((r) => setImmediate(r)); // after the store's own end-of-turn commit, queued first
    expect(db.inTransaction).toBe(false);
    expect(other.prepare('SELECT count(*) AS n FROM outbox').get()).toEqual({ n: 2 });
    other.close();
    db.close();
  });

  it('saves the core snapshot in the same transaction as the commands of the turn, computed once at its end', async () => {
    const dir = join(tempDir('b24store-'), 'state');
    const db = openStateDb(dir);
    const store = new SqliteOutboxStore(db, (e) => {
      throw e;
    });
    let state = { calls: ['L1'] };
    let exports = 0;
    const snapshot = () => (exports++, state);
    store.put({ seq: 1, key: 'L1', kind: 'register', method: 'telephony.externalcall.register', params: {}, needsCallId: false, attempts: 0, notBefore: 0, createdAt: 1 });
    store.putKvThisTurn('core.snapshot', snapshot, 1);
    state = { calls: ['L1', 'L2'] };
    store.putKvThisTurn('core.snapshot', snapshot, 2);
    const other = openStateDb(dir);
    expect(kvGet(other, 'core.snapshot')).toBeUndefined();
    await new Promise((r) => setImmediate(r)); // after the store's own end-of-turn commit, queued first
    expect(kvGet(other, 'core.snapshot')).toEqual({ calls: ['L1', 'L2'] });
    expect(other.prepare('SELECT count(*) AS n FROM outbox').get()).toEqual({ n: 1 });
    expect(exports).toBe(1);
    other.close();
    db.close();
  });

  it('refuses a state dir it cannot create with a typed error', () => {
    expect(() => openStateDb('/dev/null/state')).toThrow(StateDirError);
  });
});
