import { sleep, waitFor } from '../../support/wait.js';
import type { PbxDriver } from './pbx.js';

/**
 * The live scenarios of issue 14, scripted once and used twice: by the trace recorder (with a scripted observer
 * where the daemon would be) and by the live tests (with the daemon). `down`/`up` are what happens to whoever
 * follows the PBX: the observer's socket reset and a new login, or kill -9 of the daemon and its restart.
 */
export interface ScenarioContext {
  pbx: PbxDriver;
  /** The AMI client that follows the calls dies (kill -9). */
  down(): Promise<void>;
  /** ...and comes back: a new login, CoreShowChannels, QueueStatus. */
  up(): Promise<void>;
}

export const SUPPORT = ['101', '102', '103'];
export const AUTOPAUSE_MEMBERS = ['301', '302', '303'];
export const iface = (ext: string): string => `Local/${ext}@agents/n`;

/**
 * Customer 5556001 calls support; 102 answers after 1 s; 4 s later the agent consults `target` in [from-internal]
 * (7200: queue backoffice, where 201 answers after 1 s and 202 does not; 7100: a ring group dialling 201 and 202)
 * with AMI Atxfer of its bridged channel; the agent hangs up 5 s into the consultation, which completes the
 * transfer; the customer talks to 201 and hangs up 20 s after answering (about 10 s with 201).
 */
export async function attendedTransferToQueue(ctx: ScenarioContext, target: '7200' | '7100', customer = '5556001'): Promise<void> {
  const { pbx } = ctx;
  await pbx.agents({ '101': 'noanswer', '102': 'answer-after-1:9', '103': 'noanswer', '201': 'answer-after-1:60', '202': 'noanswer' });
  await pbx.customer(customer, 'answer:20');
  await pbx.phase(`begin attended transfer to ${target}`);
  const from = pbx.mark();
  await pbx.call(customer, 'support', { RECORD: 'no' });
  const agent = await pbx.answeredBy('102', from);
  await sleep(4000);
  await pbx.phase(`Atxfer ${agent} to ${target}@from-internal`);
  await pbx.action('Atxfer', { Channel: agent, Exten: target, Context: 'from-internal' });
  await pbx.waitEvent('the transfer to complete', (m) => m['Event'] === 'AttendedTransfer', 30_000, from);
  await pbx.idle(40_000);
  await pbx.phase(`end attended transfer to ${target}`);
}

/**
 * Customer 5557001 calls support (101 and 103 never answer, 102 answers after 4 s and talks 14 s). Whoever follows
 * the PBX dies 1.5 s into the ringing and comes back 10 s after the answer, while the call still talks; the agent
 * hangs up 4 s later.
 */
export async function restartWhileRinging(ctx: ScenarioContext, customer = '5557001'): Promise<void> {
  const { pbx } = ctx;
  await pbx.agents({ '101': 'noanswer', '102': 'answer-after-4:14', '103': 'noanswer' });
  await pbx.customer(customer, 'answer:60');
  await pbx.phase('begin restart while ringing');
  const from = pbx.mark();
  await pbx.call(customer, 'support', { RECORD: 'no' });
  await pbx.waitEvent('102 to ring', (m) => m['Event'] === 'AgentCalled' && m['Interface'] === iface('102'), 10_000, from);
  await sleep(1500);
  await ctx.down();
  await pbx.answeredBy('102', from);
  await sleep(10_000);
  await ctx.up();
  await pbx.idle(30_000);
  await sleep(500);
  await pbx.phase('end restart while ringing');
}

/** Customer 5557101 calls support, 102 answers after 2 s and talks 4 s; the follower is down from 1.5 s into the talk until 3 s after the hangup. */
export async function downThroughHangup(ctx: ScenarioContext, customer = '5557101'): Promise<void> {
  const { pbx } = ctx;
  await pbx.agents({ '101': 'noanswer', '102': 'answer-after-2:4', '103': 'noanswer' });
  await pbx.customer(customer, 'answer:60');
  await pbx.phase('begin down through hangup');
  const from = pbx.mark();
  await pbx.call(customer, 'support', { RECORD: 'no' });
  await pbx.answeredBy('102', from);
  await sleep(1500);
  await ctx.down();
  await pbx.idle(30_000);
  await sleep(3000);
  await ctx.up();
  await sleep(1000);
  await pbx.phase('end down through hangup');
}

/**
 * Makes `idle` the longest idle member of a leastrecent queue: each of `busy`, in order, answers a short warm-up
 * call while the others are paused (reason warm-up) and unpaused again. Run before anyone records or follows.
 */
export async function warmUp(pbx: PbxDriver, queue: string, members: string[], busy: string[]): Promise<void> {
  for (const [i, ext] of busy.entries()) {
    const others = members.filter((e) => e !== ext);
    for (const o of others) await pbx.pause(queue, iface(o), true, 'warm-up');
    await pbx.agents({ [ext]: 'answer:1' });
    const number = `555890${i + 1}`;
    await pbx.customer(number, 'answer:60');
    const from = pbx.mark();
    await pbx.call(number, queue, { RECORD: 'no' });
    await pbx.answeredBy(ext, from);
    await pbx.idle(20_000);
    for (const o of others) await pbx.pause(queue, iface(o), false);
    await sleep(1100); // LastCall has one-second steps: keep the warm-ups apart
  }
}

/** sales_autopause (leastrecent, autopause=yes) with 301 the longest idle: warm-up calls answered by 302, then 303. */
export function warmUpAutopause(pbx: PbxDriver): Promise<void> {
  return warmUp(pbx, 'sales_autopause', AUTOPAUSE_MEMBERS, ['302', '303']);
}

/**
 * Customer 5558001 calls sales_autopause: 301 (longest idle) rings 5 s and misses, Asterisk pauses it (Auto-Pause),
 * 1 s later the queue rings 302, who answers after 1 s and talks 5 s.
 */
export async function autopauseMiss(ctx: ScenarioContext, customer = '5558001'): Promise<void> {
  const { pbx } = ctx;
  await pbx.agents({ '301': 'noanswer', '302': 'answer-after-1:5', '303': 'answer-after-1:5' });
  await pbx.customer(customer, 'answer:60');
  await pbx.phase('begin autopause');
  const from = pbx.mark();
  await pbx.call(customer, 'sales_autopause', { RECORD: 'no' });
  await pbx.answeredBy('302', from, 30_000);
  await pbx.idle(30_000);
  await pbx.phase('end autopause');
}

/** A support call that 102 answers after 1 s (talk 60 s); resolves with 102's bridged channel and the customer's queue channel. */
export async function answeredBy102(pbx: PbxDriver, customer: string): Promise<{ agent: string; caller: string }> {
  await pbx.agents({ '101': 'noanswer', '102': 'answer-after-1:60', '103': 'noanswer' });
  await pbx.customer(customer, 'answer:60');
  const from = pbx.mark();
  await pbx.call(customer, 'support', { RECORD: 'no' });
  const connect = await pbx.waitEvent('102 to answer', (m) => m['Event'] === 'AgentConnect', 20_000, from);
  return { agent: String(connect['DestChannel']), caller: String(connect['Channel']) };
}

/** Customer 5555002: 102 answers; 2 s later AMI Redirect of the caller's channel to 103@xfer, which answers after 1 s and talks 4 s. */
export async function redirectToAgent(ctx: ScenarioContext, customer = '5555002'): Promise<void> {
  const { pbx } = ctx;
  await pbx.phase('begin redirect to 103');
  const { caller } = await answeredBy102(pbx, customer);
  await sleep(2000);
  await pbx.agents({ '103': 'answer-after-1:4' });
  await pbx.action('Redirect', { Channel: caller, Context: 'xfer', Exten: '103', Priority: 1 });
  await pbx.idle(30_000);
  await pbx.phase('end redirect to 103');
}

/**
 * Customer 5555003: 102 answers; 1 s later AMI Atxfer of 102's channel to 103@from-internal; 103 answers the
 * consultation after 1 s; a second later 102 hangs up, which completes the transfer; the customer hangs up 2 s later.
 */
export async function attendedTransferToExtension(ctx: ScenarioContext, customer = '5555003'): Promise<void> {
  const { pbx } = ctx;
  await pbx.phase('begin attended transfer to 103');
  const { agent } = await answeredBy102(pbx, customer);
  await sleep(1000);
  await pbx.agents({ '103': 'answer-after-1:30' });
  const from = pbx.mark();
  await pbx.action('Atxfer', { Channel: agent, Exten: '103', Context: 'from-internal' });
  const consult = (m: Record<string, unknown>) => m['Event'] === 'DialEnd' && m['DialStatus'] === 'ANSWER' && String(m['DestChannel']).startsWith('Local/103@agents-');
  await pbx.waitEvent('103 to answer the consultation', consult, 20_000, from);
  await sleep(1000);
  await pbx.action('Hangup', { Channel: agent.replace(/;1$/, ';2') }); // the agent hangs up: the transfer completes
  await pbx.waitEvent('the transfer', (m) => m['Event'] === 'AttendedTransfer', 10_000, from);
  await sleep(2000);
  await pbx.action('Hangup', { Channel: `/^Local\\/${customer}@customer-phone-.*;2$/` });
  await pbx.idle(30_000);
  await pbx.phase('end attended transfer to 103');
}

/**
 * Customer 5557201: 102 answers after 1 s; 3 s into the talk Asterisk restarts (`core restart now`): every channel
 * is hung up, AMI sessions end; once Asterisk is back, whoever follows it logs in again (`up`).
 */
export async function asteriskRestart(ctx: ScenarioContext, customer = '5557201'): Promise<void> {
  const { pbx } = ctx;
  await pbx.phase('begin Asterisk restart under a call');
  await answeredBy102(pbx, customer);
  await sleep(3000);
  await pbx.command('core restart now').catch(() => undefined); // the session dies with Asterisk
  await waitFor(() => !pbx.connected, 'the driver to see Asterisk go', 10_000).catch(() => undefined);
  await waitFor(() => pbx.connected, 'the driver to log in again after the restart', 30_000);
  await ctx.up();
  await sleep(1000);
  await pbx.phase('end Asterisk restart under a call');
}

/**
 * Three customers at once: 5551201 into support (102 answers), 5551202 into backoffice (201 answers), 5551203 straight
 * to agent 203 (answers); and an outbound call placed for 301 to 5551204 (`extra`: the live test clicks instead).
 */
export async function concurrentCalls(ctx: ScenarioContext, extra?: () => Promise<unknown>): Promise<void> {
  const { pbx } = ctx;
  await pbx.agents({ '101': 'noanswer', '102': 'answer-after-1:5', '103': 'noanswer', '201': 'answer-after-2:4', '202': 'noanswer', '203': 'answer-after-1:3', '301': 'answer:6' });
  for (const n of ['5551201', '5551202', '5551203']) await pbx.customer(n, 'answer:60');
  await pbx.customer('5551204', 'answer-after-1:60');
  await pbx.phase('begin concurrent calls');
  const outbound = () => pbx.action('Originate', { Channel: 'Local/301@agents/n', Context: 'outbound', Exten: '5551204', Priority: 1, CallerID: 'Agent <301>', Async: 'true' });
  await Promise.all([
    pbx.call('5551201', 'support', { RECORD: 'no' }),
    pbx.call('5551202', 'backoffice', { RECORD: 'no' }),
    pbx.call('5551203', '203', { RECORD: 'no' }),
    (extra ?? outbound)(),
  ]);
  await pbx.idle(30_000);
  await pbx.phase('end concurrent calls');
}
