import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BatchCommand, BitrixClient } from '../../src/bitrix/client.js';
import { BitrixError } from '../../src/bitrix/errors.js';
import { Outbox } from '../../src/bitrix/outbox.js';
import { openStateDb } from '../../src/store/db.js';
import { SqliteOutboxStore } from '../../src/store/sqlite-outbox-store.js';
import { canMountTmpfs, fillUp, mountTmpfs } from '../support/tmpfs.js';
import { silentLogger } from '../support/logger.js';

/**
 * A state directory that fills up while the daemon runs, on a real (small) tmpfs: SQLite's writes fail with
 * SQLITE_FULL as on a full disk (test/support/tmpfs.ts).
 */

const REGISTER = 'telephony.externalcall.register';
const FINISH = 'telephony.externalcall.finish';
let umount: (() => void) | undefined;

afterEach(() => {
  umount?.();
  umount = undefined;
});

/** A portal that answers every batch; it can be down (503) for a while. */
function portal() {
  const sent: Array<{ method: string; key: string }> = [];
  let down = false;
  const client: BitrixClient = {
    call: async () => undefined as never,
    batch: async (cmds: BatchCommand[]) => {
      if (down) throw new BitrixError({ kind: 'retryable', errorCode: 'PORTAL_UNAVAILABLE', code: '', description: 'down', method: 'batch', httpStatus: 503 });
      for (const c of cmds) sent.push({ method: c.method, key: String(c.params['EXTERNAL_CALL_ID'] ?? c.params['CALL_ID']) });
      return { results: Object.fromEntries(cmds.map((c) => [c.key, c.method === REGISTER ? { CALL_ID: `externalCall.${String(c.params['EXTERNAL_CALL_ID'])}` } : true])), errors: {} };
    },
  };
  return { client, sent, setDown: (d: boolean) => (down = d) };
}

function outboxOn(dir: string, client: BitrixClient, errors: string[]) {
  const db = openStateDb(dir);
  const store = new SqliteOutboxStore(db, (err, op) => errors.push(`${op}: ${err.message}`));
  const outbox = new Outbox({ client, store, clock: Date.now, limiterDelay: () => 0, logger: silentLogger, lingerMs: 1, initialRetryDelayMs: 5, maxRetryDelayMs: 20 });
  store.onRecovered = () => outbox.persistAll();
  return { db, store, outbox, close: () => (outbox.stop(), store.flush(), db.close()) };
}

// The outbox runs in this process, so its tmpfs is a real mount (root, as CI runs); the daemon-as-a-process version
// (test/e2e/faults.test.ts) runs as anyone, in a user namespace. Never skipped: without root this fails and says so.
describe('a state directory that fills up while the daemon runs', () => {
  it('goes on from memory, rewrites its copy once space is back, and a restart then sends nothing twice', async () => {
    if (!canMountTmpfs) throw new Error('this test mounts a tmpfs in its own process: run the suite as root (CI does), or run test/e2e/faults.test.ts, which covers a full disk as any user');
    const mount = mountTmpfs('2m');
    umount = mount.umount;
    const root = mount.dir;
    const dir = join(root, 'state');
    mkdirSync(dir);
    const p = portal();
    const errors: string[] = [];
    const first = outboxOn(dir, p.client, errors);

    // L1's register waits on disk while the portal is down; then the disk fills up.
    p.setDown(true);
    first.outbox.enqueue('L1', 'register', REGISTER, { EXTERNAL_CALL_ID: 'L1' }, false);
    await new Promise((r) => setTimeout(r, 30));
    const filler = fillUp(root);

    // Meanwhile the portal is back: L1 is registered and finished, L2 starts; none of it reaches the disk.
    p.setDown(false);
    first.outbox.enqueue('L1', 'finish', FINISH, { USER_ID: 11 });
    first.outbox.enqueue('L2', 'register', REGISTER, { EXTERNAL_CALL_ID: 'L2' }, false);
    expect(await first.outbox.drain(2000)).toBe(true);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.join('\n')).toMatch(/SQLITE_FULL|full|disk/i);
    // A replay upstream cannot register or finish again while the marks are only in memory.
    expect(first.outbox.enqueue('L1', 'finish', FINISH, { USER_ID: 11 })).toBe(false);
    expect(first.outbox.enqueue('L2', 'register', REGISTER, { EXTERNAL_CALL_ID: 'L2' }, false)).toBe(false);

    // Space comes back; the next write commits and the copy on disk is rewritten from memory.
    rmSync(filler);
    first.outbox.enqueue('L2', 'finish', FINISH, { USER_ID: 12 });
    expect(await first.outbox.drain(2000)).toBe(true);
    first.close();

    // A restart finds nothing to send again: L1's register, delivered while the disk was full, is not on disk any more.
    const second = outboxOn(dir, p.client, []);
    expect(second.outbox.depth).toBe(0);
    expect(await second.outbox.drain(500)).toBe(true);
    expect(second.outbox.enqueue('L1', 'register', REGISTER, { EXTERNAL_CALL_ID: 'L1' }, false)).toBe(false);
    expect(second.outbox.enqueue('L2', 'finish', FINISH, { USER_ID: 12 })).toBe(false);
    second.close();
    // Each call registered once and finished once at the portal, over both runs.
    expect(p.sent.filter((c) => c.method === REGISTER).map((c) => c.key)).toEqual(['L1', 'L2']);
    expect(p.sent.filter((c) => c.method === FINISH)).toHaveLength(2);
  });
});
