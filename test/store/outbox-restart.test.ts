import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BitrixClient } from '../../src/bitrix/client.js';
import { BitrixError } from '../../src/bitrix/errors.js';
import { Outbox, type OutboxHooks } from '../../src/bitrix/outbox.js';
import { openStateDb } from '../../src/store/db.js';
import { SqliteOutboxStore } from '../../src/store/sqlite-outbox-store.js';
import { removeTempDirs, tempDir } from '../support/tmp.js';
import { silentLogger } from '../support/logger.js';
import { waitFor } from '../support/wait.js';

/** What a kill -9 leaves on disk, and how the next start reads it. */

const FINISH = 'telephony.externalcall.finish';

function outboxOn(dir: string, client: BitrixClient, hooks: OutboxHooks = {}) {
  const db = openStateDb(dir);
  const store = new SqliteOutboxStore(db, (e) => {
    throw e;
  });
  const outbox = new Outbox({ client, store, clock: Date.now, limiterDelay: () => 0, logger: silentLogger, lingerMs: 1, initialRetryDelayMs: 5, maxRetryDelayMs: 20, hooks });
  const close = () => {
    outbox.stop();
    store.flush();
    db.close();
  };
  return { db, outbox, close };
}

afterAll(removeTempDirs);

describe('a batch in flight when the daemon dies', () => {
  it('is on disk as uncertain before it leaves, so a finish the portal then calls unknown counts as delivered', async () => {
    const dir = join(tempDir('b24restart-'), 'state');
    let reachedPortal = false;
    const hanging: BitrixClient = {
      call: async () => undefined as never,
      // The portal runs it; the answer never comes back (the process is killed meanwhile).
      batch: () => ((reachedPortal = true), new Promise(() => undefined)),
    };
    const first = outboxOn(dir, hanging);
    first.outbox.bindCallId('L1', 'externalCall.1');
    first.outbox.enqueue('L1', 'finish', FINISH, { USER_ID: 11 });
    await waitFor(() => reachedPortal, 'the finish to reach the portal');
    // What a second process sees now is what a kill -9 leaves.
    const other = openStateDb(dir);
    expect(other.prepare('SELECT kind, uncertain FROM outbox').all()).toEqual([{ kind: 'finish', uncertain: 1 }]);
    other.close();
    first.close();

    const delivered: string[] = [];
    const portal: BitrixClient = {
      call: async () => undefined as never,
      batch: async (cmds) => ({
        results: {},
        errors: { [cmds[0]!.key]: new BitrixError({ kind: 'fatal', errorCode: 'CONTRACT', code: '', description: 'Call is not found (call should be registered prior to finishing', method: FINISH, httpStatus: 400 }) },
      }),
    };
    const second = outboxOn(dir, portal, { onDelivered: (e) => delivered.push(e.kind) });
    const o = second.outbox;
    expect(await o.drain(1000)).toBe(true);
    expect(delivered).toEqual(['finish']);
    expect(o.parkedEntries()).toEqual([]);
    second.close();
  });

  it('gets its real flag back once answered: a command the gateway refused (503) is not uncertain', async () => {
    const dir = join(tempDir('b24restart-'), 'state');
    let n = 0;
    const refusing: BitrixClient = {
      call: async () => undefined as never,
      batch: async () => {
        n++;
        throw new BitrixError({ kind: 'retryable', errorCode: 'PORTAL_UNAVAILABLE', code: 'INVALID_RESPONSE', description: 'down', method: 'batch', httpStatus: 503 });
      },
    };
    // Stopped at the first refusal: exactly one attempt.
    const { db, outbox, close } = outboxOn(dir, refusing, { onRetry: () => outbox.stop() });
    outbox.bindCallId('L1', 'externalCall.1');
    outbox.enqueue('L1', 'finish', FINISH, { USER_ID: 11 });
    await waitFor(() => (db.prepare('SELECT attempts FROM outbox').get() as { attempts: number } | undefined)?.attempts === 1, 'the refusal written back');
    expect(db.prepare('SELECT kind, uncertain, attempts FROM outbox').all()).toEqual([{ kind: 'finish', uncertain: 0, attempts: 1 }]);
    expect(n).toBe(1);
    close();
  });
});
