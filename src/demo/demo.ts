import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../config/load.js';
import { startBridge } from '../daemon/app.js';
import { createLogger } from '../obs/logger.js';
import { startAmiSimulator } from '../sim/ami-simulator.js';
import { startBitrixEmulator } from '../sim/bitrix-emulator.js';
import { CLICK_FROM_BITRIX24, DEMO_CRM, DEMO_USERS, TRACE_STORIES } from './scenarios.js';
import type { AmiSimulator } from '../sim/ami-simulator.js';
import type { BitrixEmulator } from '../sim/bitrix-emulator.js';
import { describeCommand } from './describe.js';
import { recordedQueueState } from './queue-state.js';
import { runAuth } from '../app/auth-command.js';

/**
 * `asterisk-b24-bridge demo`: the real daemon against the built-in AMI simulator (replaying real Asterisk 22
 * traces) and the built-in Bitrix24 emulator; prints, call by call, what the portal received.
 */

export interface DemoOptions {
  speed: number;
  traces?: string[];
  print: (line: string) => void;
  /** Where the bundled traces live (default: the package's test/fixtures/ami). */
  traceDir?: string;
  /**
   * app: the portal refuses webhooks for telephony; the bridge is a local application authorised with `auth --code`
   * and gets click-to-call as offline events (no inbound connection at all).
   */
  auth?: 'webhook' | 'app';
  /**
   * After the traces, the daemon (and its live view) stays up until this resolves: the CLI waits for Ctrl-C when
   * asked to (--stay, or by default on a terminal), so a newcomer can look at the page after the calls too.
   */
  holdOpen?: (liveView: string) => Promise<void>;
}

const DEMO_APP = { clientId: 'local.demo0000000000.00000000', clientSecret: 'demo-client-secret' };

export interface DemoResult {
  requests: number;
  commands: number;
  calls: number;
}

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const traceDir = opts.traceDir ?? fileURLToPath(new URL('../../test/fixtures/ami/', import.meta.url));
  const recordingDir = fileURLToPath(new URL('../../test/fixtures/recordings', import.meta.url));
  const names = opts.traces ?? TRACE_STORIES.map((s) => s.name);
  const app = opts.auth === 'app';
  const portal = await startBitrixEmulator({ users: DEMO_USERS, crm: DEMO_CRM, ...(app ? { app: DEMO_APP, refuseWebhookTelephony: true } : {}) });
  const pbx = await startAmiSimulator({ username: 'b24bridge', secret: 'demo-secret', queueState: recordedQueueState(traceDir) });
  const config = parseConfig({
    asterisk: { ami: { host: pbx.host, port: pbx.port, username: 'b24bridge', secret: 'demo-secret', eventFilter: true } },
    bitrix: app
      ? { auth: { mode: 'app' }, app: { ...DEMO_APP, portalUrl: portal.url, oauthUrl: portal.oauthUrl, events: 'offline', eventsPollMs: 500 }, defaultUserId: 1 }
      : { webhookUrl: portal.webhookUrl, applicationToken: DEMO_TOKEN, defaultUserId: 1 },
    users: { extensions: {}, refreshIntervalSec: 3600 },
    state: { dir: mkdtempSync(join(tmpdir(), 'b24bridge-demo-')) },
    // The traces' recordings live in the package: map Asterisk's monitor dir there, as a mount would.
    recordings: {
      source: { type: 'mount', rewrite: { from: '/var/spool/asterisk/monitor', to: recordingDir } },
      stableMs: 200,
      appearTimeoutMs: 500,
    },
    log: { level: 'warn' },
    // A short cooldown so the demo shows the undo too.
    ringBack: { cooldownSec: 2 },
    // The test bed's phones are Local channels into [agents] (see the traces' extensions.conf).
    clickToCall: { agentChannel: 'Local/{ext}@agents/n', callerId: 'Click2Call <{number}>' },
    http: { host: '127.0.0.1', port: 0 },
  });
  // Only errors: the transcript is the output (a missing demo recording is expected, not news).
  const logger = createLogger({ level: 'error', format: 'json' });
  const { print } = opts;
  if (app) {
    // What an admin does on a PBX behind NAT: `auth` prints the URL, the browser gives a code, `auth --code` takes it.
    const code = await runAuth(config, { code: portal.authorizationCode() }, () => undefined);
    if (code !== 0) throw new Error('the demo could not authorise its application');
    print('App mode: this portal refuses webhooks for telephony; the bridge is a local application, authorised with');
    print('`auth --code` (nothing reaches the bridge from Bitrix24), and fetches click-to-call as offline events.\n');
  }
  const bridge = await startBridge(config, { logger });
  const liveView = `http://127.0.0.1:${bridge.endpoint.server.port}/status`;
  print(`Bitrix24 emulator: ${portal.url}   AMI simulator: ${pbx.host}:${pbx.port}   replay speed x${opts.speed}`);
  print(`Live view: ${liveView}  (open it in a browser: calls, cards, paused members and the outbox, as they happen)`);
  print(`User map from user.get (UF_PHONE_INNER -> user id): ${DEMO_USERS.filter((u) => u.UF_PHONE_INNER).map((u) => `${u.UF_PHONE_INNER}->${u.ID}`).join(" ")}\n`);
  let calls = 0;
  try {
    for (const name of names) {
      const story = TRACE_STORIES.find((s) => s.name === name);
      const requestsBefore = portal.requests.length;
      const commandsBefore = portal.commands.length;
      const actionsBefore = pbx.received.length;
      print(`== ${name}: ${story?.story ?? ''}`);
      if (name === CLICK_FROM_BITRIX24 && app) await offlineClick(portal, pbx, traceDir, opts.speed, print);
      else if (name === CLICK_FROM_BITRIX24) await clickFromBitrix24(portal, pbx, bridge.endpoint.server.port, traceDir, opts.speed, print);
      else await pbx.replay(readFileSync(`${traceDir}${name}.ami`), { speed: opts.speed });
      await bridge.outbox.drain(15_000);
      // The batch envelopes themselves are not shown: each command inside them is.
      // Offline-event polls (app mode) run all along: counted, not listed.
      const all = portal.commands.slice(commandsBefore).filter((c) => c.method !== 'batch');
      const polls = all.filter((c) => c.method.startsWith('event.offline.')).length;
      const cmds = all.filter((c) => !c.method.startsWith('event.offline.'));
      const t0 = cmds[0]?.at ?? 0;
      for (const c of cmds) print(`   +${((c.at - t0) / 1000).toFixed(3)}s ${describeCommand(c)}`);
      calls += cmds.filter((c) => c.method === 'telephony.externalcall.finish' && c.ok).length;
      if (cmds.length === 0) print('   (nothing sent: no external call in this trace)');
      // What the daemon asked of Asterisk meanwhile (the ring-back fix pauses and unpauses members).
      for (const a of pbx.received.slice(actionsBefore)) {
        if (a['Action'] === 'QueuePause' || a['Action'] === 'QueuePenalty') {
          print(`   PBX <- ${String(a['Action'])} Queue=${String(a['Queue'])} Interface=${String(a['Interface'])} ${a['Action'] === 'QueuePause' ? `Paused=${String(a['Paused'])}` : `Penalty=${String(a['Penalty'])}`}`);
        }
      }
      print(`   portal: ${portal.requests.length - requestsBefore} HTTP request(s), ${cmds.length} command(s)${polls > 0 ? ` (and ${polls} offline-event poll(s))` : ''}\n`);
    }
    if (opts.holdOpen) {
      print(`The daemon and its live view stay up: ${liveView}  (Ctrl-C to stop)`);
      await opts.holdOpen(liveView);
    }
  } finally {
    await bridge.stop(5000);
    await pbx.close();
    await portal.close();
  }
  print(`Done: ${calls} call(s) finished in Bitrix24, ${portal.requests.length} HTTP requests in all (user.get included).`);
  return { requests: portal.requests.length, commands: portal.commands.length, calls };
}

const DEMO_TOKEN = 'demo-application-token';

/**
 * A real click: the emulated portal posts ONEXTERNALCALLSTART (user 11 clicks 555-98-76) to the daemon's HTTP
 * endpoint, the daemon originates on the simulated PBX, which then plays the recorded click-to-call under the
 * ChannelId the daemon chose, as Asterisk would.
 */
async function clickFromBitrix24(portal: BitrixEmulator, pbx: AmiSimulator, port: number, traceDir: string, speed: number, print: (l: string) => void): Promise<void> {
  const callId = await portal.sendEvent(`http://127.0.0.1:${port}/bitrix/events`, 'ONEXTERNALCALLSTART', { USER_ID: 11, PHONE_NUMBER: '555-98-76' }, { applicationToken: DEMO_TOKEN });
  const originate = await pbx.waitForAction('Originate', (a) => typeof a['ChannelId'] === 'string', 10_000);
  print(`   portal -> daemon: ONEXTERNALCALLSTART USER_ID=11 PHONE_NUMBER=555-98-76 CALL_ID=${String(callId)} (already registered by Bitrix24)`);
  await playClickLeg(pbx, originate, traceDir, speed, print);
}

/** The same click in app mode: Bitrix24 keeps it as an offline event; the daemon fetches it, nothing is posted to it. */
async function offlineClick(portal: BitrixEmulator, pbx: AmiSimulator, traceDir: string, speed: number, print: (l: string) => void): Promise<void> {
  const click = await portal.clickToCall({ userId: 11, phoneNumber: '555-98-76' });
  print(`   portal: user 11 clicks 555-98-76; CALL_ID=${String(click.callId)} kept as an offline event for the application`);
  const originate = await pbx.waitForAction('Originate', (a) => typeof a['ChannelId'] === 'string', 10_000);
  print('   daemon -> portal: event.offline.get (fetched, not pushed: no inbound connection), then event.offline.clear');
  await playClickLeg(pbx, originate, traceDir, speed, print);
}

/** Shows the daemon's Originate for a click and plays the agent's leg as Asterisk recorded it, on the channel it named. */
async function playClickLeg(pbx: AmiSimulator, originate: Record<string, unknown>, traceDir: string, speed: number, print: (l: string) => void): Promise<void> {
  print(`   PBX <- Originate Channel=${String(originate['Channel'])} Context=${String(originate['Context'])} Exten=${String(originate['Exten'])} ChannelId=${String(originate['ChannelId'])}`);
  const trace = readFileSync(`${traceDir}click_to_call.ami`, 'latin1').replaceAll('c2c-agent-leg-001', String(originate['ChannelId']));
  await pbx.replay(Buffer.from(trace, 'latin1'), { speed });
}
