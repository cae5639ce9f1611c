import { afterEach, expect, it } from 'vitest';
import { ExtensionDirectory } from '../../src/bitrix/user-directory.js';
import { UserMapSync } from '../../src/daemon/user-map.js';
import { openStateDb, type StateDb } from '../../src/store/db.js';
import { startBitrixEmulator, type BitrixEmulator } from '../../src/sim/bitrix-emulator.js';
import { createBitrixClient } from '../../src/bitrix/client.js';
import { LeakyBucket } from '../../src/bitrix/limiter.js';
import { silentLogger } from '../support/logger.js';
import { tempDir } from '../support/tmp.js';
import { waitFor } from '../support/wait.js';

const USERS = [
  { ID: '11', ACTIVE: true, NAME: 'A', LAST_NAME: '101', UF_PHONE_INNER: '101' },
  { ID: '12', ACTIVE: true, NAME: 'A', LAST_NAME: '102', UF_PHONE_INNER: '102' },
];

let portal: BitrixEmulator | undefined;
const syncs: UserMapSync[] = [];
const dbs: StateDb[] = [];
afterEach(async () => {
  for (const s of syncs.splice(0)) s.stop();
  for (const db of dbs.splice(0)) db.close();
  await portal?.close();
  portal = undefined;
});

function sync(dir: string, onChange = () => undefined): { directory: ExtensionDirectory; sync: UserMapSync } {
  const db = openStateDb(dir);
  dbs.push(db);
  const directory = new ExtensionDirectory({ '109': 19 });
  const client = createBitrixClient({ webhookUrl: portal!.webhookUrl, limiter: new LeakyBucket({ perSecond: 50, burst: 50 }) });
  const s = new UserMapSync({ directory, client, db, logger: silentLogger, clock: Date.now, refreshIntervalSec: 900, firstRetryMs: 50, onChange });
  syncs.push(s);
  return { directory, sync: s };
}

it('keeps the last good map in the state store, so a start while the portal is down still maps every agent', async () => {
  portal = await startBitrixEmulator({ users: USERS });
  const dir = tempDir();
  const first = sync(dir);
  await first.sync.start();
  expect(first.directory.userIdFor('102')).toBe(12);
  first.sync.stop();
  dbs.splice(0).forEach((db) => db.close());

  portal.faults.setDown(503);
  let changes = 0;
  const second = sync(dir, () => void changes++);
  await second.sync.start();
  expect(second.directory.userIdFor('101')).toBe(11);
  expect(second.directory.userIdFor('102')).toBe(12);
  // The config's own map still wins and is still there.
  expect(second.directory.userIdFor('109')).toBe(19);
  expect(changes).toBe(1);
});

it('retries a first load that fails, soon, and tells the core once the map arrives', async () => {
  portal = await startBitrixEmulator({ users: USERS });
  portal.faults.setDown(503);
  let changes = 0;
  const s = sync(tempDir(), () => void changes++);
  await s.sync.start();
  expect(s.directory.userIdFor('102')).toBeUndefined();
  expect(changes).toBe(0);
  portal.faults.setUp();
  await waitFor(() => s.directory.userIdFor('102') === 12, 'the map after the portal came back', 5_000);
  expect(changes).toBe(1);
});
