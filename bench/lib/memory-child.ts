import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { getHeapSpaceStatistics } from 'node:v8';
import { AmiFramer } from '../../src/ami/framer.js';
import type { AmiClient, AmiClientEvents, AmiResponse } from '../../src/ami/client.js';
import type { BatchCommand, BitrixClient } from '../../src/bitrix/client.js';
import { startBridge, type Bridge } from '../../src/daemon/app.js';
import { benchConfig, devNullLogger, UNSATURATED } from './bridge-config.js';
import { fullGc, sleep } from './stats.js';
import { chunks, traceCopies, useTraceDir } from './trace-copies.js';

/**
 * The daemon alone in a process of its own, for items 5 (memory) and 2 (card-pop). bench/5-memory.ts bundles this file with esbuild
 * and runs it with plain `node --expose-gc`, so RSS is the daemon's, without the tsx loader (which alone adds
 * about 30 MB) and without the simulators. Two modes, given as JSON in argv[2]:
 *  - calls: the real daemon (AMI connection, client, SQLite state) against the parent's simulator and emulator;
 *    the parent starts the calls, then asks for a measurement.
 *  - soak: the daemon with a stand-in AMI connection fed trace copies through the real framer, and a Bitrix24
 *    client that answers at once; RSS after a warm-up and after the whole soak.
 */

export interface CallsArgs {
  mode: 'calls';
  amiHost: string;
  amiPort: number;
  amiUser: string;
  amiSecret: string;
  webhookUrl: string;
  extensions: Record<string, number>;
  /** Sections merged over the config's own (click-to-call's token and settings, say). */
  config?: Record<string, Record<string, unknown>>;
}

export interface SoakArgs {
  mode: 'soak';
  traceDir: string;
  events: number;
  warmupEvents: number;
  sampleEvery: number;
}

export interface Mem {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  /** Committed by V8's young generation (semi-spaces): RSS that heapUsed does not show. */
  newSpace: number;
  external: number;
}

export type ChildMessage =
  | { type: 'ready'; mem: Mem; httpPort: number }
  | { type: 'measured'; mem: Mem; activeCalls: number; outboxDepth: number }
  | { type: 'depth'; outboxDepth: number }
  | {
      type: 'soak';
      start: Mem;
      end: Mem;
      startEvents: number;
      events: number;
      seconds: number;
      samples: Array<{ events: number; rss: number }>;
      activeCalls: number;
      snapshotBytes: number;
      snapshotMs: number;
    };

/** measure: memory after a full GC; depth: the outbox depth alone (cheap, no GC). */
export type ParentMessage = { type: 'measure' } | { type: 'depth' } | { type: 'stop' };

function mem(): Mem {
  fullGc();
  const m = process.memoryUsage();
  const newSpace = getHeapSpaceStatistics().find((sp) => sp.space_name === 'new_space')?.physical_space_size ?? 0;
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, newSpace, external: m.external };
}

function send(msg: ChildMessage): void {
  process.send?.(msg);
}

function configDoc(
  stateDir: string,
  ami: { host: string; port: number; username: string; secret: string },
  webhookUrl: string,
  extensions: Record<string, number>,
  extra: Record<string, Record<string, unknown>> = {},
) {
  const doc: Record<string, Record<string, unknown>> = {
    asterisk: { ami },
    bitrix: { webhookUrl, defaultUserId: 1, rateLimit: UNSATURATED },
    users: { extensions, refreshIntervalSec: 0 },
    state: { dir: stateDir },
    log: { level: 'info', format: 'json' },
    recordings: { enabled: false },
    http: { host: '127.0.0.1', port: 0 },
  };
  for (const [section, keys] of Object.entries(extra)) doc[section] = { ...doc[section], ...keys };
  return benchConfig(doc);
}

async function calls(args: CallsArgs, stateDir: string): Promise<Bridge> {
  const config = configDoc(stateDir, { host: args.amiHost, port: args.amiPort, username: args.amiUser, secret: args.amiSecret }, args.webhookUrl, args.extensions, args.config);
  const bridge = await startBridge(config, { logger: devNullLogger() });
  await sleep(300);
  send({ type: 'ready', mem: mem(), httpPort: bridge.endpoint.server.port });
  return bridge;
}

/** An AMI connection that is always up; the soak emits the framer's messages on it. */
class StandInAmi extends EventEmitter<AmiClientEvents> implements AmiClient {
  readonly isConnected = true;
  async connect(): Promise<void> {}
  async close(): Promise<void> {}
  async action(): Promise<AmiResponse> {
    return { response: { Response: 'Success' }, events: [] };
  }
}

/** A portal that answers every batch at once: a register gets a CALL_ID, everything else `true`. */
function instantPortal(): BitrixClient {
  let n = 0;
  return {
    call: async <T>() => ({}) as T,
    batch: async (commands: BatchCommand[]) => {
      const results: Record<string, unknown> = {};
      for (const c of commands) results[c.key] = c.method === 'telephony.externalcall.register' ? { CALL_ID: `externalCall.soak.${++n}` } : true;
      return { results, errors: {} };
    },
  };
}

async function soak(args: SoakArgs, stateDir: string): Promise<Bridge> {
  useTraceDir(args.traceDir);
  const extensions = { '101': 11, '102': 12, '103': 13, '201': 21, '202': 22, '203': 23 };
  const config = configDoc(stateDir, { host: '127.0.0.1', port: 5038, username: 'soak', secret: 'soak' }, 'http://127.0.0.1:9/rest/1/soakcode/', extensions);
  const ami = new StandInAmi();
  const bridge = await startBridge(config, { logger: devNullLogger(), ami, bitrix: instantPortal() });
  const framer = new AmiFramer();
  const samples: Array<{ events: number; rss: number }> = [];
  let events = 0;
  let nextSample = args.sampleEvery;
  let start: Mem | undefined;
  let startEvents = 0;
  let startedAt = 0;
  // Making the copies is the benchmark's work, not the daemon's: its time is left out of the rate.
  let generatingMs = 0;
  for (let copy = 0; events < args.events; copy++) {
    const g = performance.now();
    const bytes = traceCopies(1, { first: copy, banner: copy === 0 });
    if (start !== undefined) generatingMs += performance.now() - g;
    for (const piece of chunks(bytes)) {
      for (const out of framer.push(piece)) {
        if (out.type !== 'message' || out.message['Event'] === undefined) continue;
        events++;
        ami.emit('event', out.message);
      }
      // One socket read per turn of the event loop, as a live connection delivers them: timers (the outbox) run between.
      await nextTurn();
    }
    if (start === undefined && events >= args.warmupEvents) {
      await bridge.outbox.drain(10_000);
      start = mem();
      startEvents = events;
      startedAt = performance.now();
    }
    if (events >= nextSample) {
      samples.push({ events, rss: process.memoryUsage().rss });
      nextSample += args.sampleEvery;
    }
  }
  const seconds = (performance.now() - startedAt - generatingMs) / 1000;
  await bridge.outbox.drain(10_000);
  await sleep(1200); // one more state snapshot, as the daemon takes every second
  const end = mem();
  const t = performance.now();
  const snapshotBytes = JSON.stringify(bridge.tracker.exportState()).length;
  const snapshotMs = performance.now() - t;
  send({ type: 'soak', start: start!, end, startEvents, events, seconds, samples, activeCalls: bridge.tracker.activeCalls, snapshotBytes, snapshotMs });
  return bridge;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as CallsArgs | SoakArgs;
  const stateDir = mkdtempSync(join(tmpdir(), 'b24bridge-mem-'));
  const bridge = args.mode === 'calls' ? await calls(args, stateDir) : await soak(args, stateDir);
  const stop = async (): Promise<void> => {
    await bridge.stop(1000);
    rmSync(stateDir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('message', (m: ParentMessage) => {
    if (m.type === 'measure') send({ type: 'measured', mem: mem(), activeCalls: bridge.tracker.activeCalls, outboxDepth: bridge.outbox.depth });
    else if (m.type === 'depth') send({ type: 'depth', outboxDepth: bridge.outbox.depth });
    else void stop();
  });
  process.on('disconnect', () => void stop());
}

await main();
