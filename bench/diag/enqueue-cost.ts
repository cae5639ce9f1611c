import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { BitrixClient } from '../../src/bitrix/client.js';
import { MemoryOutboxStore, type OutboxStore } from '../../src/bitrix/outbox-entry.js';
import { Outbox } from '../../src/bitrix/outbox.js';
import { ChannelClassifier } from '../../src/core/classify.js';
import { CallTracker } from '../../src/core/tracker.js';
import { Runtime } from '../../src/daemon/runtime.js';
import { createLogger } from '../../src/obs/logger.js';
import { openStateDb } from '../../src/store/db.js';
import { SqliteOutboxStore } from '../../src/store/sqlite-outbox-store.js';
import { agentCalled, callStart, dialBegin, newCall } from '../lib/synthetic-calls.js';

/**
 * Diagnostic behind item 2 (not part of `npm run bench`): what one ringing call costs on the event loop before
 * its card can be sent. AgentCalled + DialBegin through runtime -> core -> outbox.enqueue (register + show), the
 * outbox stopped so nothing is sent, with the SQLite store or the in-memory one, logs at info (to /dev/null) or
 * silent. N calls wait in the queue first; the time per ringing call is printed (median of 5 runs).
 *
 *   npx tsx bench/diag/enqueue-cost.ts [calls=1000]
 */

const calls = Number(process.argv[2] ?? 1000);
const extensions: Record<string, number> = { '101': 11, '102': 12, '103': 13 };
const noPortal: BitrixClient = { call: async <T>() => ({}) as T, batch: async () => ({ results: {}, errors: {} }) };

function runtime(store: OutboxStore, level: string): Runtime {
  const logger = createLogger({ level, format: 'json', destination: pino.destination({ dest: '/dev/null', sync: true }) });
  const tracker = new CallTracker({
    classifier: new ChannelClassifier({ contexts: { inbound: ['incoming'], outbound: [], internal: ['agents'] }, extensionPattern: '^(?:PJSIP|SIP|IAX2|Local)/(\\d+)' }),
    users: extensions,
    defaultUserId: 1,
    crmCreate: { inbound: true, outbound: false },
    defaultLineNumber: '',
    showCards: true,
  });
  const outbox = new Outbox({ client: noPortal, store, clock: Date.now, limiterDelay: () => 0, logger });
  outbox.stop();
  return new Runtime({ tracker, outbox, logger, clock: Date.now, commands: { addToChat: true }, recordingsEnabled: false });
}

function microsPerCall(makeStore: () => OutboxStore, level: string): number {
  const rt = runtime(makeStore(), level);
  const list = Array.from({ length: calls }, (_, i) => newCall('support', [String(101 + (i % 3))]));
  for (const c of list) for (const m of callStart(c)) rt.handleAmiEvent(m);
  const ringing = list.flatMap((c) => [agentCalled(c, c.members[0]!), dialBegin(c, c.members[0]!)]);
  const t = performance.now();
  for (const m of ringing) rt.handleAmiEvent(m);
  return ((performance.now() - t) / calls) * 1000;
}

const dirs: string[] = [];
const sqlite = (): OutboxStore => {
  const dir = mkdtempSync(join(tmpdir(), 'b24bridge-diag-'));
  dirs.push(dir);
  return new SqliteOutboxStore(openStateDb(dir), () => undefined);
};
const memory = (): OutboxStore => new MemoryOutboxStore();

const variants = [
  ['SQLite store, info log ', sqlite, 'info'],
  ['SQLite store, silent   ', sqlite, 'silent'],
  ['memory store, info log ', memory, 'info'],
  ['memory store, silent   ', memory, 'silent'],
] as const;
for (const [, store, level] of variants) microsPerCall(store, level); // warm-up: JIT for every path
for (const [name, store, level] of variants) {
  const runs = Array.from({ length: 5 }, () => microsPerCall(store, level)).sort((a, b) => a - b);
  process.stdout.write(`${name} ${runs[2]!.toFixed(1).padStart(7)} µs per ringing call (${calls} calls)\n`);
}
for (const d of dirs) rmSync(d, { recursive: true, force: true });
