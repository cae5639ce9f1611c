import { afterAll, afterEach, expect, it } from 'vitest';
import { sqliteTokenStore } from '../../../src/bitrix/auth/sqlite-token-store.js';
import type { AppTokens } from '../../../src/bitrix/auth/tokens.js';
import { openStateDb, type StateDb } from '../../../src/store/db.js';
import { SqliteOutboxStore } from '../../../src/store/sqlite-outbox-store.js';
import { removeTempDirs, tempDir } from '../../support/tmp.js';

/** A renewed pair is durable the moment it is saved, even inside a turn whose outbox writes are not committed yet. */

const dbs: StateDb[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
});
afterAll(removeTempDirs);

/** The daemon's connection in the middle of a turn (the outbox wrote, its transaction is open), and a second reader. */
function midTurn(): { db: StateDb; reader: StateDb; outbox: SqliteOutboxStore } {
  const dir = tempDir();
  const db = openStateDb(dir);
  const reader = openStateDb(dir);
  dbs.push(db, reader);
  const outbox = new SqliteOutboxStore(db, () => undefined);
  outbox.put({ seq: 1, key: 'L', kind: 'show', method: 'telephony.externalcall.show', params: {}, needsCallId: true, attempts: 0, notBefore: 0, createdAt: 0 });
  return { db, reader, outbox };
}

const pair: AppTokens = { accessToken: 'a2', refreshToken: 'r2', expiresAt: 1, issuedAt: 0, clientEndpoint: 'https://p.example/rest/', domain: 'p.example', memberId: 'm', generation: 2 };

it('commits the pair at once, so another reader (a process after a kill -9) sees it before the turn ends', () => {
  const { db, reader, outbox } = midTurn();
  expect(db.inTransaction).toBe(true);
  sqliteTokenStore(db, () => 5, () => outbox.flush()).save(pair);
  expect(db.inTransaction).toBe(false);
  expect(sqliteTokenStore(reader).load()).toEqual(pair);
});

it('without the commit the pair would wait for the end of the turn (what the daemon must not allow)', () => {
  const { db, reader, outbox } = midTurn();
  sqliteTokenStore(db, () => 5).save(pair);
  expect(sqliteTokenStore(reader).load()).toBeUndefined();
  outbox.flush();
  expect(sqliteTokenStore(reader).load()).toEqual(pair);
});
