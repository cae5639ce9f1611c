import { expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { hostileFlood } from '../../src/sim/hostile-flood.js';
import { processRigPerTest } from '../support/process-rig.js';
import { parseMetrics, valueOf } from '../support/prometheus.js';
import { asTrace, replayEvents, shifted } from '../support/trace-replay.js';
import { waitFor, waitForAsync } from '../support/wait.js';

/**
 * A broken or hostile AMI against the daemon as a process under the systemd unit's V8 limits: a million events for
 * channels that never hang up cost bounded memory, the daemon keeps answering /healthz, a real call among them is
 * still right, and SIGTERM still stops it within its drain limit.
 */

/** The unit's Environment= lines (V8 limits in NODE_OPTIONS, glibc's trim threshold): the daemon runs as production. */
const UNIT_ENV = Object.fromEntries(
  [...readFileSync(new URL('../../systemd/asterisk-b24-bridge.service', import.meta.url), 'utf8').matchAll(/^Environment="?([A-Z_]+)=([^"\n]*)"?$/gm)].map((m) => [m[1]!, m[2]!.trim()]),
);

const { start } = processRigPerTest();


async function metric(base: string, name: string): Promise<number> {
  return valueOf(parseMetrics(await (await fetch(`${base}/metrics`)).text()), `b24bridge_${name}`);
}

function rssMb(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return kb / 1024;
}

it('takes a million events for channels that never hang up within bounded memory, still finishes a real call right, and stops on SIGTERM', { timeout: 240_000 }, async () => {
  const rig = await start();
  const { portal, pbx } = rig;
  const daemon = await rig.start(
    { asterisk: { ami: { eventFilter: false, pingIntervalMs: undefined, reconnect: undefined } }, users: { refreshIntervalSec: 900 }, recordings: { enabled: false }, log: { level: 'info' } },
    UNIT_ENV,
  );
  const base = await waitFor(() => daemon.httpBase(), 'the daemon to say where it listens', 20_000);
  await waitForAsync(async () => (await fetch(`${base}/healthz`)).status === 200, 'the daemon up', 20_000);
  const pid = daemon.child.pid!;

  const total = 1_000_000;
  for (let sent = 0; sent < total; sent += 10_000) {
    pbx.sendRaw(hostileFlood(sent, 10_000));
    // Flow control: no more than ~100k events ahead of what the daemon has read.
    if (sent % 100_000 === 0) await waitForAsync(async () => (await metric(base, 'ami_events_total')) >= sent - 100_000, `the daemon reading the flood (${sent} sent)`, 60_000);
  }
  await waitForAsync(async () => (await metric(base, 'ami_events_total')) >= total, 'the whole flood read', 120_000);

  // Bounded: the core keeps at most its limits, and says what it let go.
  expect(await metric(base, 'evicted_total')).toBeGreaterThan(total / 2);
  const started = Date.now();
  expect((await fetch(`${base}/healthz`)).status).toBe(200);
  expect(Date.now() - started).toBeLessThan(2_000);
  const rss = rssMb(pid);
  // A guard, not a measurement (bench item 10 measures it: about 98 MB right after the flood, 78 MB later).
  expect(rss).toBeLessThan(200);
  expect(daemon.output()).toMatch(/tracking limit reached/);
  expect(daemon.output().match(/tracking limit reached/g)!.length).toBeLessThan(5);

  // A real call among the flood is still right.
  await pbx.replay(asTrace(shifted(replayEvents('support_ringall_answer'), 86_400)));
  await waitFor(() => [...portal.calls.values()].some((c) => c.finished), 'the real call finished', 30_000);
  const call = [...portal.calls.values()][0]!;
  expect(call).toMatchObject({ phone: '5551001', finishedBy: 12 });
  expect(portal.calls.size).toBe(1);

  // SIGTERM during a flood: stopped within the drain limit (10 s) and the unit's TimeoutStopSec (30 s).
  const flooding = setInterval(() => pbx.sendRaw(hostileFlood(2_000_000 + Math.floor(Math.random() * 1e6), 10_000)), 20);
  const stopAt = Date.now();
  const code = await daemon.stop('SIGTERM');
  clearInterval(flooding);
  expect(code).toBe(0);
  expect(Date.now() - stopAt).toBeLessThan(15_000);
});
