import { fileURLToPath } from 'node:url';
import type { RecordingHooks } from '../src/recordings/pipeline.js';
import type { BitrixEmulator } from '../src/sim/bitrix-emulator.js';
import { agentUsers, startRig, type Rig } from './lib/rig.js';
import { until } from './lib/stats.js';
import { traceCopy } from './lib/trace-copies.js';
import { row, textRow, type BenchOptions, type Row } from './lib/types.js';

/**
 * Item 4: HTTP requests to the portal for one typical recorded queue call: the `recording` trace (support queue,
 * ringall 101-103, 102 answers, MixMonitor on) replayed in real time through the whole daemon against the
 * Bitrix24 emulator with the portal's default limits. The recordings pipeline is switched on, with the trace's WAV
 * (test/fixtures/recordings) mounted where Asterisk wrote it, so attachRecord is counted when this build wires it.
 * The user map comes from the config (users.refreshIntervalSec 0), so user.get is not among the requests.
 *
 * The call is played several times (copies with distinct ids, one after the other) and the median is reported:
 * the count depends on timing. The ringall members' AgentCalled arrive within ~1 ms; the outbox waits 5 ms after
 * the first show so they share one request, but a stall of the event loop at that moment (the once-a-second state
 * snapshot, a GC, a busy host) lets the timer fire before the later AgentCalled are read, and their show goes in a
 * request of its own. The first call after start is not counted: the first request of a fresh process spends ~15 ms
 * initialising the HTTP client (with the default config the user.get at start-up does that first request; here the
 * user map comes from the config).
 * Baseline: the same commands without batching or USER_ID arrays, one request per command and member.
 */

const ITEM = '4 requests/call';
const RECORDINGS_DIR = fileURLToPath(new URL('../test/fixtures/recordings', import.meta.url));

interface Counted {
  requests: number;
  breakdown: string;
  commands: string;
  naive: number;
  attach: string;
  attached: boolean;
}

type Attached = Parameters<NonNullable<RecordingHooks['onAttached']>>[0];

async function playCall(rig: Rig, copy: number, speed: number, recording: { attached?: Attached; problem?: string }): Promise<Counted> {
  const { portal, pbx, bridge } = rig;
  const recordingsOn = (rig.config as { recordings?: { enabled?: boolean } }).recordings?.enabled === true;
  const fromRequest = portal.requests.length;
  const fromCommand = portal.commands.length;
  recording.attached = undefined;
  recording.problem = undefined;
  await pbx.replay(traceCopy('recording', copy), { speed });
  const finished = await until(() => portal.commands.slice(fromCommand).some((c) => c.method === 'telephony.externalcall.finish'), 15_000, 10);
  if (!finished) throw new Error('requests/call: the recorded call was never finished');
  if (recordingsOn) await until(() => recording.attached !== undefined || recording.problem !== undefined, 15_000, 10);
  await bridge.outbox.drain(10_000);
  return count(portal, fromRequest, fromCommand, recordingsOn, recording);
}

function count(portal: BitrixEmulator, fromRequest: number, fromCommand: number, recordingsOn: boolean, recording: { attached?: Attached; problem?: string }): Counted {
  const requests = portal.requests.slice(fromRequest);
  const commands = portal.commands.slice(fromCommand).filter((c) => c.method !== 'batch');
  const registers = commands.filter((c) => c.method === 'telephony.externalcall.register').length;
  if (registers !== 1) throw new Error(`requests/call: expected one call, saw ${registers} registers`);
  const byMethod = new Map<string, number>();
  for (const r of requests) byMethod.set(r.restMethod ?? r.path, (byMethod.get(r.restMethod ?? r.path) ?? 0) + 1);
  // Without batching and USER_ID arrays every command, and every member of a show or hide, is a request of its own.
  const perMember = (c: (typeof commands)[number]): number => {
    const users = c.params['USER_ID'];
    const many = c.method.endsWith('.show') || c.method.endsWith('.hide');
    return many && typeof users === 'object' && users !== null ? Object.keys(users).length : 1;
  };
  const a = recording.attached;
  return {
    requests: requests.length,
    breakdown: [...byMethod].map(([m, n]) => `${m} x${n}`).join(', '),
    commands: commands.map((c) => c.method.replace('telephony.externalcall.', '')).join(', '),
    naive: commands.reduce((n, c) => n + perMember(c), 0),
    attached: a !== undefined,
    attach: !recordingsOn
      ? 'attachRecord not counted: the recordings section is not in this build'
      : a
        ? `attachRecord counted (${a.format}, ${a.mode}, ${a.bytes} B)`
        : `attachRecord not counted: recording ${recording.problem ?? 'not attached in time'}`,
  };
}

export async function run(opts: BenchOptions): Promise<Row[]> {
  const { users } = agentUsers(3);
  const recording: { attached?: Attached; problem?: string } = {};
  const hooks: RecordingHooks = {
    onAttached: (info) => (recording.attached = info),
    onFailed: (reason) => (recording.problem = `failed: ${reason}`),
    onMissing: () => (recording.problem = 'file missing'),
    onEmpty: () => (recording.problem = 'file empty'),
  };
  const rig = await startRig({
    portalRateLimit: { perSecond: 2, burst: 50 },
    bridgeRateLimit: { perSecond: 2, burst: 50 },
    users,
    extensions: { '101': 11, '102': 12, '103': 13 },
    recordings: {
      enabled: true,
      source: { type: 'mount', rewrite: { from: '/var/spool/asterisk/monitor', to: RECORDINGS_DIR } },
      stableMs: 200,
      appearTimeoutMs: 2000,
      keepOriginals: true,
    },
    deps: { recordingHooks: hooks },
  });
  try {
    const speed = opts.quick ? 4 : 1;
    const cold = await playCall(rig, 0, speed, recording);
    opts.log(`  first call after start (not counted): ${cold.requests} requests (${cold.breakdown}); commands: ${cold.commands}`);
    const calls: Counted[] = [];
    for (let copy = 1; copy <= (opts.quick ? 1 : 3); copy++) {
      const c = await playCall(rig, copy, speed, recording);
      opts.log(`  call ${copy}: ${c.requests} requests (${c.breakdown}); commands: ${c.commands}; ${c.attach}`);
      calls.push(c);
    }
    const typical = [...calls].sort((a, b) => a.requests - b.requests)[Math.floor((calls.length - 1) / 2)]!;
    const spread = calls.map((c) => c.requests).join(', ');
    return [
      row(ITEM, 'HTTP requests for one recorded queue call (median)', typical.requests, '', { op: '<=', target: 4, text: '<= 4' },
        `calls counted: ${spread}; typical: ${typical.breakdown}; ${typical.attach}; replay x${speed}`, 0),
      row(ITEM, 'baseline: one request per command and member', typical.naive, '', undefined, `commands: ${typical.commands}`, 0),
      textRow(ITEM, 'recording attached', calls.every((c) => c.attached) ? 'yes' : 'no', { note: typical.attach }),
    ];
  } finally {
    await rig.stop();
  }
}
