import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BitrixError, createBitrixError } from '../../src/bitrix/errors.js';
import { Outbox } from '../../src/bitrix/outbox.js';
import { openStateDb } from '../../src/store/db.js';
import { SqliteOutboxStore } from '../../src/store/sqlite-outbox-store.js';
import { silentLogger } from '../support/logger.js';
import { removeTempDirs, tempDir } from '../support/tmp.js';
import { FINISH, REGISTER, fakeClient, makeOutbox, ok } from './outbox-fakes.js';

/**
 * A call made while the user map was not loaded carries bitrix.defaultUserId and the agent's extension; the user is
 * looked up again right before the command leaves, never between two attempts of a register that may have landed.
 */

afterAll(removeTempDirs);

const DEFAULT_USER = 1;
const reset = () => createBitrixError('batch', { type: 'network', code: 'ECONNRESET', name: 'RequestError', message: 'read ECONNRESET' });
const gatewayDown = () => new BitrixError({ kind: 'retryable', errorCode: 'PORTAL_UNAVAILABLE', code: 'INVALID_RESPONSE', description: 'down', method: 'batch', httpStatus: 503 });

describe('a command whose extension mapped to no user', () => {
  it('leaves with the agent’s USER_ID once the extension maps, and as made while it does not', async () => {
    const users = new Map<string, number>([['102', 12]]);
    const { client, batches } = fakeClient(ok);
    const o = makeOutbox(client, { resolveUser: (ext) => users.get(ext) });
    o.enqueue('L1', 'register', REGISTER, { USER_ID: DEFAULT_USER, PHONE_NUMBER: '5551001' }, false, { userExt: '102' });
    o.enqueue('L2', 'register', REGISTER, { USER_ID: DEFAULT_USER, PHONE_NUMBER: '5551002' }, false, { userExt: '109' });
    expect(await o.drain(1000)).toBe(true);
    expect(batches.flat().map((c) => [c.params['PHONE_NUMBER'], c.params['USER_ID']])).toEqual([
      ['5551001', 12],
      ['5551002', DEFAULT_USER],
    ]);
  });

  it('is looked up again after a refusal that certainly did nothing (503), the rewrite on disk before it leaves', async () => {
    const dir = join(tempDir('b24resolve-'), 'state');
    const db = openStateDb(dir);
    const store = new SqliteOutboxStore(db, (e) => {
      throw e;
    });
    const users = new Map<string, number>();
    const rows: unknown[] = [];
    const { client, batches } = fakeClient((cmds, n) => {
      // What the request carries is on disk by the time it leaves.
      rows.push(db.prepare('SELECT params, user_ext, uncertain FROM outbox').get());
      if (n === 1) {
        users.set('102', 12); // the user map loads while the portal is still refusing
        throw gatewayDown();
      }
      return ok(cmds);
    });
    const o = new Outbox({ client, store, clock: Date.now, limiterDelay: () => 0, logger: silentLogger, lingerMs: 1, initialRetryDelayMs: 5, resolveUser: (ext) => users.get(ext) });
    o.bindCallId('L1', 'externalCall.1');
    o.enqueue('L1', 'finish', FINISH, { USER_ID: DEFAULT_USER, DURATION: 5, STATUS_CODE: '200' }, true, { userExt: '102' });
    expect(await o.drain(1000)).toBe(true);
    expect(batches.map((b) => b[0]!.params['USER_ID'])).toEqual([DEFAULT_USER, 12]);
    expect(rows).toEqual([
      { params: JSON.stringify({ USER_ID: DEFAULT_USER, DURATION: 5, STATUS_CODE: '200' }), user_ext: '102', uncertain: 1 },
      { params: JSON.stringify({ USER_ID: 12, DURATION: 5, STATUS_CODE: '200' }), user_ext: null, uncertain: 1 },
    ]);
    o.stop();
    store.flush();
    db.close();
  });

  it('keeps the USER_ID of a register whose answer was lost, even when the extension maps meanwhile', async () => {
    const users = new Map<string, number>();
    const { client, batches } = fakeClient((cmds, n) => {
      if (n === 1) {
        users.set('102', 12);
        throw reset();
      }
      return ok(cmds);
    });
    const o = makeOutbox(client, { resolveUser: (ext) => users.get(ext) });
    o.enqueue('L1', 'register', REGISTER, { USER_ID: DEFAULT_USER, PHONE_NUMBER: '5551001', CALL_START_DATE: new Date().toISOString() }, false, { userExt: '102' });
    expect(await o.drain(1000)).toBe(true);
    expect(batches.map((b) => b[0]!.params['USER_ID'])).toEqual([DEFAULT_USER, DEFAULT_USER]);
    expect(batches[1]![0]!.params).toEqual(batches[0]![0]!.params);
  });

  it('keeps its extension across a restart', async () => {
    const dir = join(tempDir('b24resolve-'), 'state');
    const first = openStateDb(dir);
    const store1 = new SqliteOutboxStore(first, (e) => {
      throw e;
    });
    const stuck = fakeClient(() => new Promise(() => undefined));
    const o1 = new Outbox({ client: stuck.client, store: store1, clock: Date.now, limiterDelay: () => Infinity, logger: silentLogger, lingerMs: 1 });
    o1.enqueue('L1', 'register', REGISTER, { USER_ID: DEFAULT_USER, PHONE_NUMBER: '5551001' }, false, { userExt: '102' });
    o1.stop();
    store1.flush();
    first.close();

    const db = openStateDb(dir);
    const store = new SqliteOutboxStore(db, (e) => {
      throw e;
    });
    const { client, batches } = fakeClient(ok);
    const o = new Outbox({ client, store, clock: Date.now, limiterDelay: () => 0, logger: silentLogger, lingerMs: 1, resolveUser: (ext) => (ext === '102' ? 12 : undefined) });
    expect(await o.drain(1000)).toBe(true);
    expect(batches.flat().map((c) => c.params['USER_ID'])).toEqual([12]);
    o.stop();
    store.flush();
    db.close();
  });
});
