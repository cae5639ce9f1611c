/**
 * Records the live scenarios of issue 14 as AMI traces for the replay suite:
 *   npx tsx test/live/record-traces.ts [--out DIR] [NAME...]      (default DIR: test/fixtures/ami)
 * Each scenario gets a fresh Asterisk (test/live/asterisk), a recorder between Asterisk and a scripted observer
 * that stands where the daemon stands, and the test driver on a session of its own (not recorded; its
 * ScenarioPhase markers are events, so they are). Needs the bundle (ASTERISK_BUNDLE or ../shared/asterisk).
 */
import { resolve } from 'node:path';
import type { AmiConnection } from '../../src/ami/connection.js';
import type { AmiMessage } from '../../src/ami/types.js';
import { removeTempDirs } from '../support/tmp.js';
import { sleep } from '../support/wait.js';
import { PROJECT, startAsterisk } from './support/asterisk.js';
import { Observer } from './support/observer.js';
import { PbxDriver } from './support/pbx.js';
import { startAmiRecorder } from './support/recorder.js';
import * as s from './support/scenarios.js';

const OUR_REASON = 'asterisk-b24-bridge:no-answer';

interface Recording {
  description: string;
  /** Runs before the observer connects (not recorded). */
  setUp?: (pbx: PbxDriver) => Promise<void>;
  /** The observer acting on events (the ring-back fix as it was before the autopause fix). */
  onEvent?: (msg: AmiMessage, ami: AmiConnection) => void;
  run: (ctx: s.ScenarioContext) => Promise<void>;
  /** After the scenario, on the observer's session. */
  tearDown?: (observer: Observer) => Promise<void>;
}

/** The old ring-back fix: on a member's missed ring in a leastrecent queue, pause it with our reason at once. */
function oldFix(msg: AmiMessage, ami: AmiConnection): void {
  if (msg['Event'] !== 'AgentRingNoAnswer' || Number(msg['RingTime']) < 1000) return;
  void ami.action('QueuePause', { Queue: String(msg['Queue']), Interface: String(msg['Interface']), Paused: 'true', Reason: OUR_REASON });
}

const RECORDINGS: Record<string, Recording> = {
  attended_transfer_to_queue: {
    description:
      'support call 5556001, 102 answers; AMI Atxfer of 102\'s bridged channel to 7200@from-internal, which enters Queue(backoffice)\n' +
      '(ringall 201, 202); 201 answers the consultation; 102 hangs up, which completes the transfer; the customer talks to 201, then hangs up.',
    run: (ctx) => s.attendedTransferToQueue(ctx, '7200'),
  },
  attended_transfer_to_ringgroup: {
    description:
      'as attended_transfer_to_queue (customer 5556101), the consultation to 7100@from-internal: a ring group, Dial() of 201 and 202 at once;\n' + '201 answers.',
    run: (ctx) => s.attendedTransferToQueue(ctx, '7100', '5556101'),
  },
  restart_while_ringing: {
    description:
      'support call 5557001: 101..103 ring; the observer (where the daemon is) dies 1.5 s into the ringing (socket reset, as kill -9);\n' +
      '102 answers after 4 s; 10 s later a new connection logs in and sends CoreShowChannels and QueueStatus while the call talks\n' +
      '(restart_while_ringing.2.ami); 102 hangs up 14 s after answering.',
    run: (ctx) => s.restartWhileRinging(ctx),
  },
  down_through_hangup: {
    description:
      'support call 5557101: 102 answers after 2 s and talks 4 s; the observer dies 1.5 s into the talk and comes back 3 s after the\n' +
      'hangup (down_through_hangup.2.ami: CoreShowChannels lists no channel).',
    run: (ctx) => s.downThroughHangup(ctx),
  },
  redirect_to_agent: {
    description: 'support call 5555002, 102 answers after 1 s; 2 s later AMI Redirect of the caller\'s channel to 103@xfer; 103 answers after 1 s and hangs up 4 s later.',
    run: (ctx) => s.redirectToAgent(ctx),
  },
  attended_transfer_to_extension: {
    description:
      'support call 5555003, 102 answers; AMI Atxfer of 102\'s channel to 103@from-internal (Dial of Local/103@agents/n); 103 answers the\n' +
      'consultation after 1 s; 1 s later 102 hangs up, which completes the transfer; the customer hangs up 2 s later.',
    run: (ctx) => s.attendedTransferToExtension(ctx),
  },
  asterisk_restart: {
    description:
      'support call 5557201, 102 answers after 1 s; 3 s into the talk `core restart now`: Asterisk hangs up every channel, sends Shutdown\n' +
      'and ends the session; once it is back the observer logs in again (asterisk_restart.2.ami: FullyBooted with a small Uptime,\n' +
      'CoreShowChannels lists no channel).',
    run: (ctx) => s.asteriskRestart(ctx),
  },
  concurrent_calls: {
    description:
      'four calls at once: 5551201 into support (102 answers after 1 s, talks 5 s), 5551202 into backoffice (201 answers after 2 s, 4 s),\n' +
      '5551203 straight to agent 203 (answers after 1 s, 3 s), and an outbound call placed for 301 to 5551204 (answers after 1 s; 301 hangs up 6 s in).',
    run: (ctx) => s.concurrentCalls(ctx),
  },
  autopause: {
    description:
      'sales_autopause (leastrecent, autopause=yes), 301 the longest idle (warm-up calls to 302 and 303 before the recording):\n' +
      'customer 5558001; 301 rings 5 s and misses; Asterisk pauses 301 (PausedReason Auto-Pause); 1 s later 302 rings and answers.\n' +
      'Nobody but Asterisk acts. The final QueueStatus shows 301 paused by Auto-Pause.',
    setUp: s.warmUpAutopause,
    run: (ctx) => s.autopauseMiss(ctx),
    tearDown: async (o) => void (await o.action('QueueStatus', { Queue: 'sales_autopause' })),
  },
  autopause_with_fix: {
    description:
      'as autopause, with the observer acting as the ring-back fix did before it knew autopause: on 301\'s AgentRingNoAnswer it sends\n' +
      `QueuePause (Queue sales_autopause, Reason ${OUR_REASON}) at once, overwriting Asterisk's Auto-Pause reason; after the call a\n` +
      'QueueStatus shows 301 paused with our reason, and the observer unpauses 301 as the old fix did at shutdown, ending Asterisk\'s pause.',
    setUp: s.warmUpAutopause,
    onEvent: oldFix,
    run: (ctx) => s.autopauseMiss(ctx, '5558002'),
    tearDown: async (o) => {
      await o.action('QueueStatus', { Queue: 'sales_autopause' });
      await o.action('QueuePause', { Queue: 'sales_autopause', Interface: s.iface('301'), Paused: 'false' });
      await sleep(200);
    },
  },
};

async function record(name: string, rec: Recording, out: string): Promise<void> {
  const ast = await startAsterisk();
  const pbx = new PbxDriver(ast.amiPort);
  const recorder = await startAmiRecorder(ast.amiPort);
  try {
    await pbx.connect();
    await rec.setUp?.(pbx);
    let observer = new Observer(recorder.port, rec.onEvent);
    await observer.connect();
    await sleep(300);
    await rec.run({
      pbx,
      down: () => observer.kill(),
      up: async () => {
        observer = new Observer(recorder.port, rec.onEvent);
        await observer.connect();
        await observer.resync();
      },
    });
    await rec.tearDown?.(observer);
    await sleep(300);
    await observer.close();
    await sleep(200);
    const files = recorder.save(out, name, rec.description);
    console.log(`${name}: ${files.filter((f) => f.endsWith('.ami')).join(', ')}`);
  } finally {
    await pbx.close().catch(() => undefined);
    await recorder.close();
    await ast.stop();
  }
}

const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const out = outAt >= 0 ? resolve(args.splice(outAt, 2)[1]!) : resolve(PROJECT, 'test/fixtures/ami');
const names = args.length > 0 ? args : Object.keys(RECORDINGS);
try {
  for (const name of names) {
    const rec = RECORDINGS[name];
    if (rec === undefined) throw new Error(`unknown scenario ${name}; known: ${Object.keys(RECORDINGS).join(', ')}`);
    await record(name, rec, out);
  }
} finally {
  removeTempDirs();
}
