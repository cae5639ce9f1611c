import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { AmiFramer } from '../../src/ami/framer.js';
import type { AmiClient, AmiClientEvents, AmiResponse } from '../../src/ami/client.js';
import type { AmiMessage } from '../../src/ami/types.js';
import type { BatchCommand, BitrixClient } from '../../src/bitrix/client.js';
import { startBridge } from '../../src/daemon/app.js';
import { benchConfig, devNullLogger, UNSATURATED } from '../lib/bridge-config.js';
import { fullGc } from '../lib/stats.js';
import { chunks, traceCopies } from '../lib/trace-copies.js';

/**
 * Diagnostic behind item 5's soak (not part of `npm run bench`): where the growth comes from.
 * Feeds K copies of every trace through the daemon (stand-in AMI, instant portal) twice:
 *  A. the framer's messages as they are;
 *  B. the same messages with every string copied into a fresh flat string before the daemon sees it.
 * After each, with a full GC: heap used, and the sizes of the structures that outlive calls.
 * If B stays flat where A grows, the growth is V8 sliced strings (a header value sliced from the 64 KiB chunk
 * string keeps the whole chunk alive) held by structures that outlive their call.
 *
 *   npx tsx bench/diag/soak-retention.ts [copies=20]
 */

class StandInAmi extends EventEmitter<AmiClientEvents> implements AmiClient {
  readonly isConnected = true;
  async connect(): Promise<void> {}
  async close(): Promise<void> {}
  async action(): Promise<AmiResponse> {
    return { response: { Response: 'Success' }, events: [] };
  }
}

function instantPortal(): BitrixClient {
  let n = 0;
  return {
    call: async <T>() => ({}) as T,
    batch: async (commands: BatchCommand[]) => {
      const results: Record<string, unknown> = {};
      for (const c of commands) results[c.key] = c.method === 'telephony.externalcall.register' ? { CALL_ID: `x.${++n}` } : true;
      return { results, errors: {} };
    },
  };
}

/** A string with the same text and no link to its parent: built char by char. */
const flat = (s: string): string => Buffer.from(s, 'latin1').toString('latin1');
function flatten(msg: AmiMessage): AmiMessage {
  const out: AmiMessage = Object.create(null) as AmiMessage;
  for (const [k, v] of Object.entries(msg)) out[flat(k)] = typeof v === 'string' ? flat(v) : v.map(flat);
  return out;
}

async function soak(copies: number, copyStrings: boolean): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'b24bridge-diag-'));
  const config = benchConfig({
    asterisk: { ami: { host: '127.0.0.1', username: 'diag', secret: 'diag' } },
    bitrix: { webhookUrl: 'http://127.0.0.1:9/rest/1/diagcode/', defaultUserId: 1, rateLimit: UNSATURATED },
    users: { extensions: { '101': 11, '102': 12, '103': 13, '201': 21, '202': 22, '203': 23 }, refreshIntervalSec: 0 },
    state: { dir },
    recordings: { enabled: false },
  });
  const ami = new StandInAmi();
  const bridge = await startBridge(config, { logger: devNullLogger(), ami, bitrix: instantPortal() });
  const framer = new AmiFramer();
  let events = 0;
  for (let copy = 0; copy < copies; copy++) {
    for (const piece of chunks(traceCopies(1, { first: copy, banner: copy === 0 }))) {
      for (const out of framer.push(piece)) {
        if (out.type !== 'message' || out.message['Event'] === undefined) continue;
        events++;
        ami.emit('event', copyStrings ? flatten(out.message) : out.message);
      }
      await nextTurn();
    }
  }
  await bridge.outbox.drain(10_000);
  fullGc();
  // Private fields, read for diagnosis only (they may be renamed: then they print as '?').
  const outboxQueues = (bridge.outbox as unknown as { queues?: Map<string, unknown> }).queues?.size ?? '?';
  const ended = (bridge.tracker as unknown as { ended?: Set<string> }).ended?.size ?? '?';
  const heap = process.memoryUsage().heapUsed / 2 ** 20;
  process.stdout.write(
    `${copyStrings ? 'B (strings copied)' : 'A (framer output) '}: ${events} events, heap used ${heap.toFixed(1)} MB; ` +
      `open calls ${bridge.tracker.activeCalls}, calls finished ${bridge.runtime.stats.callsFinished}, outbox queues kept ${outboxQueues}, ` +
      `outbox depth ${bridge.outbox.depth}, ended-call tombstones ${ended}\n`,
  );
  await bridge.stop(1000);
  rmSync(dir, { recursive: true, force: true });
}

const copies = Number(process.argv[2] ?? 20);
fullGc();
process.stdout.write(`heap used before: ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(1)} MB\n`);
await soak(copies, false);
await soak(copies, true);
