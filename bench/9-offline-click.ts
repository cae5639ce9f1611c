import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AmiMessage } from '../src/ami/types.js';
import { runAuth } from '../src/app/auth-command.js';
import { startBridge } from '../src/daemon/app.js';
import { startAmiSimulator, type AmiSimSession } from '../src/sim/ami-simulator.js';
import { startBitrixEmulator } from '../src/sim/bitrix-emulator.js';
import { benchConfig, devNullLogger } from './lib/bridge-config.js';
import { AMI_SECRET, AMI_USER, agentUsers } from './lib/rig.js';
import { percentile, preciseNow, sleep, until } from './lib/stats.js';
import { fmt, row, textRow, type BenchOptions, type Row } from './lib/types.js';

/**
 * Item 9: click-to-call in application mode with offline events (no inbound connection): from the moment the portal
 * stores the click as an offline event (the emulator's clickToCall, which registers the call first as Bitrix24 does)
 * to the Originate received by the AMI simulator, p50/p99; and what the polling costs of the portal's leaky bucket
 * (2 requests/s drained, as on a standard plan).
 * The daemon runs in this process (startBridge, SQLite state, logs at info to /dev/null) with the default
 * bitrix.app.eventsPollMs (2000 ms): the latency is the wait for the next poll plus one event.offline.get, so its
 * distribution is set by the interval, not by the machine. Clicks come at random moments (uniform over 0-3 s
 * apart), one at a time, each a new call from one of 10 agents; the agent's leg comes up and is hung up unanswered.
 * Budget: requests the bridge sent while idle for 30 s (polls only), per second, as a share of the 2 req/s drain.
 */

const ITEM = '9 offline click-to-call';
const APP = { clientId: 'local.bench00000000000.00000000', clientSecret: 'bench-client-secret' };
const POLL_MS = 2000;

function callIdOf(a: AmiMessage): string | undefined {
  const v = (a as Record<string, unknown>)['Variable'];
  const text = Array.isArray(v) ? v.join(',') : String(v ?? '');
  return /__B24_CALL_ID=([^,]+)/.exec(text)?.[1];
}

export async function run(opts: BenchOptions): Promise<Row[]> {
  const originated = new Map<string, number>();
  const onAction = (a: AmiMessage, session: AmiSimSession): undefined => {
    if (String(a['Action'] ?? '').toLowerCase() !== 'originate') return undefined;
    const callId = callIdOf(a);
    if (callId !== undefined) originated.set(callId, preciseNow());
    const uniqueid = String(a['ChannelId'] ?? '');
    const leg = { Privilege: 'call,all', Channel: `${String(a['Channel'])}-${uniqueid.slice(-8)};1`, Uniqueid: uniqueid, Linkedid: uniqueid, Context: 'agents', Exten: 's', CallerIDNum: '', CallerIDName: '' };
    setTimeout(() => session.open && session.send({ Event: 'Newchannel', ...leg, ChannelState: '0' }), 5);
    setTimeout(() => session.open && session.send({ Event: 'Hangup', ...leg, Cause: '19', 'Cause-txt': 'No answer' }), 25);
    return undefined;
  };
  const { users, extensions } = agentUsers(10);
  const portal = await startBitrixEmulator({ users, app: APP, refuseWebhookTelephony: true, clock: preciseNow });
  const pbx = await startAmiSimulator({ username: AMI_USER, secret: AMI_SECRET, onAction });
  const stateDir = mkdtempSync(join(tmpdir(), 'b24bridge-bench-'));
  const config = benchConfig({
    asterisk: { ami: { host: pbx.host, port: pbx.port, username: AMI_USER, secret: AMI_SECRET } },
    bitrix: { auth: { mode: 'app' }, app: { ...APP, portalUrl: portal.url, oauthUrl: portal.oauthUrl, events: 'offline', eventsPollMs: POLL_MS }, defaultUserId: 1 },
    users: { extensions, refreshIntervalSec: 0 },
    clickToCall: { agentChannel: 'Local/{ext}@agents/n', dedupWindowSec: 0 },
    state: { dir: stateDir },
    log: { level: 'info', format: 'json' },
    recordings: { enabled: false },
  });
  if ((await runAuth(config, { code: portal.authorizationCode() }, () => undefined)) !== 0) throw new Error('offline click: could not authorise the application');
  const bridge = await startBridge(config, { logger: devNullLogger() });
  const rows: Row[] = [];
  try {
    if (!(await until(() => portal.bindings.length === 2, 10_000, 10))) throw new Error('offline click: events not bound');
    const samples: number[] = [];
    const clicks = opts.quick ? 8 : 40;
    for (let n = 0; n < clicks; n++) {
      await sleep(Math.random() * 3000);
      const at = preciseNow();
      const click = await portal.clickToCall({ userId: 11 + (n % 10), phoneNumber: `7495${String(n).padStart(7, '0')}` });
      if (!click.callId) throw new Error(`offline click: the portal refused the click (${click.error})`);
      if (!(await until(() => originated.has(click.callId!), POLL_MS * 3, 2))) throw new Error('offline click: no Originate within three poll intervals');
      samples.push(originated.get(click.callId)! - at);
    }
    const p50 = percentile(samples, 50);
    const p99 = percentile(samples, 99);
    opts.log(`  offline click -> Originate: ${samples.length} samples, p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms`);
    rows.push(
      textRow(ITEM, 'click stored as offline event -> Originate: p50 / p99', `${fmt(p50, '', 0)} / ${fmt(p99, 'ms', 0)}`, {
        raw: p99,
        unit: 'ms',
        note: `eventsPollMs ${POLL_MS} (the default); ${samples.length} clicks at random moments, one at a time`,
      }),
    );

    const idleSec = opts.quick ? 10 : 30;
    // Idle: the last calls' cards and finishes are delivered first.
    await bridge.outbox.drain(10_000);
    const before = portal.requests.length;
    await sleep(idleSec * 1000);
    const sent = portal.requests.slice(before);
    const polls = sent.filter((r) => r.restMethod === 'event.offline.get').length;
    const perSecond = sent.length / idleSec;
    opts.log(`  idle ${idleSec} s: ${sent.length} requests (${polls} polls)`);
    rows.push(row(ITEM, 'requests/s the polling costs while idle', perSecond, 'req/s', undefined, `${sent.length} requests in ${idleSec} s idle, ${polls} of them event.offline.get`));
    rows.push(row(ITEM, 'share of the portal\'s 2 req/s drain', (perSecond / 2) * 100, '%', undefined, 'polls wait while calls\' commands wait for the limiter'));
  } finally {
    await bridge.stop(2000);
    await pbx.close();
    await portal.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
  return rows;
}
