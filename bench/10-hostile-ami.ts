import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { startAmiSimulator } from '../src/sim/ami-simulator.js';
import { hostileFlood } from '../src/sim/hostile-flood.js';
import { startBitrixEmulator } from '../src/sim/bitrix-emulator.js';
import { unitEnvironment } from './lib/daemon-child.js';
import { AMI_SECRET, AMI_USER, agentUsers } from './lib/rig.js';
import { sleep, until } from './lib/stats.js';
import { row, type BenchOptions, type Row } from './lib/types.js';

/**
 * Item 10: a broken or hostile AMI. The built daemon as a process, with the systemd unit's environment (V8 and malloc
 * settings), receives a million events for distinct channels that never hang up (Newchannel into an inbound
 * context, Newexten in an IVR) as fast as it reads them. Measured: its RSS right after the flood (peak side), 15 s
 * later, and the events per second it took them at. The core tracks at most 1000 calls and 8000 channels
 * (src/core/limits.ts), so memory is bounded; the goal is the memory item's: 100 MB.
 */

const ITEM = '10 hostile AMI';
const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const TOTAL = 1_000_000;
const CHUNK = 10_000;


const rssMb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;

async function eventsRead(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(/^b24bridge_ami_events_total (\d+)/m.exec(text)?.[1] ?? 0);
}

export async function run(opts: BenchOptions): Promise<Row[]> {
  const total = opts.quick ? 200_000 : TOTAL;
  const { users } = agentUsers(3);
  const portal = await startBitrixEmulator({ users });
  const pbx = await startAmiSimulator({ username: AMI_USER, secret: AMI_SECRET });
  const dir = mkdtempSync(join(tmpdir(), 'b24bridge-bench-'));
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const config = {
    asterisk: { ami: { host: pbx.host, port: pbx.port, username: AMI_USER, secret: AMI_SECRET, eventFilter: false } },
    bitrix: { webhookUrl: portal.webhookUrl, defaultUserId: 1 },
    users: { refreshIntervalSec: 900 },
    http: { host: '127.0.0.1', port },
    state: { dir: join(dir, 'state') },
    recordings: { enabled: false },
    log: { level: 'info', format: 'json' },
  };
  writeFileSync(join(dir, 'config.yaml'), stringify(config));
  const { NODE_OPTIONS, ...env } = unitEnvironment();
  const child = spawn(process.execPath, [...(NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean), CLI, 'run', '--config', join(dir, 'config.yaml')], { env: { ...process.env, ...env }, stdio: 'ignore' });
  const base = `http://127.0.0.1:${port}`;
  try {
    if (!(await until(() => pbx.sessions.some((s) => s.open && s.loggedIn), 20_000, 20))) throw new Error('hostile AMI: the daemon did not log in');
    await sleep(500);
    const t0 = performance.now();
    for (let sent = 0; sent < total; sent += CHUNK) {
      pbx.sendRaw(hostileFlood(sent, CHUNK));
      // No more than ~100k events ahead of what the daemon has read.
      if (sent % 100_000 === 0) while ((await eventsRead(base)) < sent - 100_000) await sleep(20);
    }
    while ((await eventsRead(base)) < total) await sleep(20);
    const seconds = (performance.now() - t0) / 1000;
    const peak = rssMb(child.pid!);
    await sleep(15_000);
    const after = rssMb(child.pid!);
    opts.log(`  ${total} hostile events in ${seconds.toFixed(1)} s; RSS ${peak.toFixed(1)} MB right after, ${after.toFixed(1)} MB 15 s later`);
    const goal = { op: '<=' as const, target: 100, text: '<= 100 MB' };
    return [
      row(ITEM, `RSS right after ${total.toLocaleString('en-US')} events for channels that never hang up`, peak, 'MB', goal, 'the daemon as a process with the unit\'s environment; the core at its limits (1000 calls, 8000 channels)'),
      row(ITEM, 'RSS 15 s later', after, 'MB', goal),
      row(ITEM, 'events/s taken (framer, core with evictions, runtime)', total / seconds, 'ev/s', undefined, 'as fast as the daemon reads them'),
    ];
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await pbx.close();
    await portal.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
