import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AmiMessage } from '../src/ami/types.js';
import { UNSATURATED } from './lib/bridge-config.js';
import { probeFeature } from './lib/feature.js';
import { childCommand, startChild, stopChild } from './lib/daemon-child.js';
import { AMI_SECRET, AMI_USER, agentUsers } from './lib/rig.js';
import { startAmiSimulator, type AmiSimSession } from '../src/sim/ami-simulator.js';
import { startBitrixEmulator, type BitrixEmulator } from '../src/sim/bitrix-emulator.js';
import { percentile, preciseNow, until } from './lib/stats.js';
import { fmt, notMeasured, type BenchOptions, type Row } from './lib/types.js';

/**
 * Item 6: click-to-call, the portal's ONEXTERNALCALLSTART POST -> the Originate action received by the AMI
 * simulator, p50/p99. Goal: p99 at most 10 ms.
 *
 * The daemon in a process of its own, as production runs it (bench/lib/daemon-child.ts: HTTP endpoint, click-to-call
 * service, AMI connection, runtime, outbox, SQLite state, logs at info to /dev/null); the strict Bitrix24 emulator
 * and the AMI simulator share this process, so both ends of a sample read one clock. The emulator's
 * `sendEvent` does what the portal does: registers the call internally, then POSTs the form-encoded event with
 * auth[application_token]. Start: the event record's `at`, stamped on the emulator's clock (timeOrigin +
 * performance.now()) after the internal register, just before the body is built and fetch() is called. End: the
 * simulator's onAction hook, stamped on the same clock when the Originate is parsed off the AMI socket. The two are
 * matched by the CALL_ID (the event's data[CALL_ID], the Originate's __B24_CALL_ID variable).
 * Every click is a new call (distinct CALL_ID and PHONE_NUMBER: the emulator refuses a second register of the same
 * user+number while the first is unfinished), from one of 10 agents; the per-address limit of the endpoint
 * (http.perAddressPerMinute) is raised, everything comes from 127.0.0.1.
 * Baseline: the same form body POSTed with fetch to a bare node:http server, to the moment its 'request' event
 * fires (the HTTP floor of the same fetch, same loop).
 */

const ITEM = '6 click-to-call';
const GOAL_MS = 10;
const GOAL = `p99 <= ${GOAL_MS} ms`;
const TOKEN = 'bench-application-token-0123456789';

/** 'Variable' may come as one comma-separated header or as repeated headers (an array). */
function callIdOf(a: AmiMessage): string | undefined {
  const v = (a as Record<string, unknown>)['Variable'];
  const text = Array.isArray(v) ? v.join(',') : String(v ?? '');
  return /__B24_CALL_ID=([^,]+)/.exec(text)?.[1];
}

class ClickWatch {
  /** CALL_ID -> when the Originate arrived. */
  readonly originated = new Map<string, number>();
  private phone = 0;

  constructor(private readonly exts: number) {}

  onAction = (a: AmiMessage, session: AmiSimSession): undefined => {
    if (String(a['Action'] ?? '').toLowerCase() !== 'originate') return undefined;
    const at = preciseNow();
    const callId = callIdOf(a);
    if (callId !== undefined) this.originated.set(callId, at);
    // The agent's leg comes up and is hung up unanswered soon after, as a click nobody picks up: each call ends,
    // so the daemon's state does not pile up hundreds of calls no real PBX would leave open.
    const uniqueid = String(a['ChannelId'] ?? '');
    const leg = { Privilege: 'call,all', Channel: `${String(a['Channel'])}-${uniqueid.slice(-8)};1`, Uniqueid: uniqueid, Linkedid: uniqueid, Context: 'agents', Exten: 's', CallerIDNum: '', CallerIDName: '' };
    setTimeout(() => session.open && session.send({ Event: 'Newchannel', ...leg, ChannelState: '0' }), 5);
    setTimeout(() => session.open && session.send({ Event: 'Hangup', ...leg, Cause: '19', 'Cause-txt': 'No answer' }), 25);
    return undefined;
  };

  /** One click; resolves with its latency (ms) once the Originate has arrived. */
  async click(rig: { portal: BitrixEmulator }, url: string): Promise<number> {
    const n = this.phone++;
    const userId = 11 + (n % this.exts);
    const phone = `7495${String(n).padStart(7, '0')}`;
    const from = rig.portal.events.length;
    const callId = await rig.portal.sendEvent(url, 'ONEXTERNALCALLSTART', { USER_ID: userId, PHONE_NUMBER: phone }, { applicationToken: TOKEN });
    if (callId === undefined) throw new Error('click-to-call: the emulator gave no CALL_ID');
    const record = rig.portal.events.slice(from).find((e) => new URLSearchParams(e.body).get('data[CALL_ID]') === callId);
    if (record === undefined) throw new Error('click-to-call: no event record for the click');
    if (record.status !== 200) throw new Error(`click-to-call: the endpoint answered ${record.status ?? record.error}`);
    if (!(await until(() => this.originated.has(callId), 5000, 1))) throw new Error('click-to-call: no Originate within 5 s');
    return this.originated.get(callId)! - record.at;
  }
}

/**
 * The HTTP floor: fetch POST of the same body to a server that does nothing, to its 'request' event; `together`
 * requests at a time (the floor of the concurrent clicks).
 */
async function httpFloor(body: string, samples: number, together = 1): Promise<number[]> {
  const received = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    received.set(String(req.headers['x-n']), preciseNow());
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bitrix/events`;
  const out: number[] = [];
  try {
    for (let i = 0; i < samples; i += together) {
      await Promise.all(
        Array.from({ length: together }, async (_, j) => {
          const n = String(i + j);
          const sent = preciseNow();
          const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-N': n }, body });
          await res.arrayBuffer();
          out.push(received.get(n)! - sent);
        }),
      );
    }
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return out;
}

function latencyRow(measure: string, samples: number[], note: string, log: (l: string) => void, goal = true): Row {
  const p50 = percentile(samples, 50);
  const p99 = percentile(samples, 99);
  log(`  ${measure}: ${samples.length} samples, p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${Math.max(...samples).toFixed(2)} ms`);
  return {
    item: ITEM,
    measure: `${measure}: p50 / p99`,
    value: `${fmt(p50, '')} / ${fmt(p99, 'ms')}`,
    raw: p99,
    unit: 'ms',
    goal: goal ? GOAL : '',
    met: goal ? (p99 <= GOAL_MS ? 'yes' : 'no') : 'n/a',
    note: `${note}; ${samples.length} samples`,
  };
}

export async function run(opts: BenchOptions): Promise<Row[]> {
  const probe = await probeFeature([new URL('../src/clicktocall/service.ts', import.meta.url)]);
  if (!probe.present) return [notMeasured(ITEM, 'event POST -> Originate on the AMI simulator, p99', GOAL, probe.why)];

  const AGENTS = 10;
  const { users, extensions } = agentUsers(AGENTS);
  const watch = new ClickWatch(AGENTS);
  const portal = await startBitrixEmulator({ users, rateLimit: false, clock: preciseNow });
  const pbx = await startAmiSimulator({ username: AMI_USER, secret: AMI_SECRET, onAction: watch.onAction });
  const daemon = startChild(await childCommand(opts.log), {
    mode: 'calls',
    amiHost: pbx.host,
    amiPort: pbx.port,
    amiUser: AMI_USER,
    amiSecret: AMI_SECRET,
    webhookUrl: portal.webhookUrl,
    extensions,
    config: {
      bitrix: { applicationToken: TOKEN, rateLimit: UNSATURATED },
      clickToCall: { agentChannel: 'Local/{ext}@agents/n', dedupWindowSec: 0 },
      http: { perAddressPerMinute: 1_000_000 },
    },
  });
  const rig = { portal };
  const rows: Row[] = [];
  try {
    const ready = await daemon.next();
    if (ready.type !== 'ready') throw new Error(`click-to-call: daemon child said ${ready.type}`);
    const url = `http://127.0.0.1:${ready.httpPort}/bitrix/events`;
    if (!(await until(() => pbx.received.some((a) => a['Action'] === 'Login'), 5000, 10))) throw new Error('click-to-call: the daemon did not log in to AMI');
    for (let i = 0; i < (opts.quick ? 10 : 30); i++) await watch.click(rig, url); // warm-up: JIT, sockets, SQLite
    rig.portal.reset();

    const sequential: number[] = [];
    for (let i = 0; i < (opts.quick ? 60 : 300); i++) sequential.push(await watch.click(rig, url));
    rows.push(latencyRow('sequential clicks', sequential, 'one click at a time, each a new call from one of 10 agents', opts.log));

    rig.portal.reset();
    const burst: number[] = [];
    const rounds = opts.quick ? 1 : 3;
    for (let r = 0; r < rounds; r++) burst.push(...(await Promise.all(Array.from({ length: 20 }, () => watch.click(rig, url)))));
    rows.push(latencyRow('20 concurrent clicks', burst, `${rounds} burst${rounds > 1 ? 's' : ''} of 20 clicks started together`, opts.log));

    const body = rig.portal.events.at(-1)!.body;
    const floor = await httpFloor(body, opts.quick ? 60 : 300);
    rows.push(latencyRow('baseline: fetch POST -> bare node:http server', floor, 'the same form body to a server that does nothing: the HTTP floor', opts.log, false));
    const floor20 = await httpFloor(body, opts.quick ? 20 : 60, 20);
    rows.push(latencyRow('baseline: 20 concurrent fetch POSTs -> bare node:http server', floor20, 'the floor of the concurrent clicks: 20 started together', opts.log, false));
  } finally {
    await stopChild(daemon.child);
    await pbx.close();
    await portal.close();
  }
  return rows;
}
