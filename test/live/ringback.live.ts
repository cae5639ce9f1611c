import { describe, expect, it } from 'vitest';
import type { StatusSnapshot } from '../../src/status/types.js';
import { sleep, waitForAsync } from '../support/wait.js';
import { logLines, liveBed, type LiveDaemon } from './support/bed.js';
import { finished } from './support/portal.js';
import { AUTOPAUSE_MEMBERS, autopauseMiss, iface, warmUp, warmUpAutopause } from './support/scenarios.js';

/**
 * The ring-back fix on a real Asterisk 22: `sales` (leastrecent, autopause=no) rings the longest idle member, 201, who
 * does not answer; the daemon sets 201 aside before the queue's next attempt (`retry` 1 s), which goes to 202; the
 * change is undone after the cooldown. And issue 14 case 4: in `sales_autopause` (autopause=yes) Asterisk pauses the
 * member itself, and the daemon must leave that pause alone, during the call, after its cooldown and at shutdown.
 */

const OUR_REASON = 'asterisk-b24-bridge:no-answer';
const SALES = ['201', '202', '203'];

let live: LiveDaemon | undefined;
const lab = liveBed({
  afterEachTest: async (bed) => {
    for (const ext of SALES) await bed.pbx.pause('sales', iface(ext), false);
    for (const ext of AUTOPAUSE_MEMBERS) await bed.pbx.pause('sales_autopause', iface(ext), false);
  },
});

describe('the ring-back fix, live', () => {
  it('pause: 201 misses once and is paused with our reason before the next attempt, which 202 answers; the pause ends after the cooldown', async () => {
    const { pbx } = lab.bed;
    await warmUp(pbx, 'sales', SALES, ['202', '203']);
    live = await lab.daemon({ ringBack: { cooldownSec: 4 } });
    const from = pbx.mark();
    await callWhere201Misses('5552099');
    const miss = await pbx.waitEvent('201 to let the ring run out', (m) => m['Event'] === 'AgentRingNoAnswer' && m['Interface'] === iface('201'), 20_000, from);
    const ours = await pbx.waitEvent('our pause of 201', (m) => m['Event'] === 'QueueMemberPause' && m['Interface'] === iface('201') && m['PausedReason'] === OUR_REASON, 5000, from);
    const afterMiss = pbx.events.findIndex((e) => e.msg === miss) + 1;
    const next = await pbx.waitEvent('the next attempt', (m) => m['Event'] === 'AgentCalled', 10_000, afterMiss);
    expect(next['Interface']).toBe(iface('202'));
    expect(Number(ours['Timestamp'])).toBeLessThan(Number(next['Timestamp']));
    const { finish } = await finished(live.portal, '5552099');
    expect(finish.params).toMatchObject({ USER_ID: '22', STATUS_CODE: '200' });
    // The cooldown (4 s) ends: our pause, and only ours, is undone.
    await waitForAsync(async () => (await pbx.member('sales', iface('201')))?.['Paused'] === '0', '201 to be unpaused after the cooldown', 15_000);
    expect(live.output()).toMatch(/ring-back: member paused after a missed ring/);
    expect(live.output()).toMatch(/ring-back: our pause undone/);
  });

  it('the live view lists the pause with its undo time, and its Release unpauses 201 on the real Asterisk long before the cooldown', async () => {
    const { pbx } = lab.bed;
    await warmUp(pbx, 'sales', SALES, ['202', '203']);
    live = await lab.daemon({ ringBack: { cooldownSec: 600 } });
    const base = live.process.httpBase()!;
    const from = pbx.mark();
    await callWhere201Misses('5552097');
    await pbx.waitEvent('our pause of 201', (m) => m['Event'] === 'QueueMemberPause' && m['Interface'] === iface('201') && m['PausedReason'] === OUR_REASON, 20_000, from);
    await finished(live.portal, '5552097');
    const status = async () => (await (await fetch(`${base}/status.json`)).json()) as StatusSnapshot;
    const held = await waitForAsync(async () => (await status()).setAside.find((m) => m.iface === iface('201') && m.phase === 'active'), '201 listed as set aside', 5000);
    expect([held.queue, held.policy, held.undoAt - held.since]).toEqual(['sales', 'pause', 600_000]);
    // No token configured: from this machine, the page's own POST may act.
    const res = await fetch(`${base}/status/release`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: base },
      body: JSON.stringify({ queue: 'sales', iface: iface('201') }),
    });
    expect([res.status, await res.json()]).toEqual([202, { released: 1 }]);
    await waitForAsync(async () => (await pbx.member('sales', iface('201')))?.['Paused'] === '0', '201 unpaused by the release', 5000);
    await waitForAsync(async () => (await status()).setAside.length === 0, 'the page to list nobody', 5000);
    expect(live.output()).toMatch(/live view: member released by an admin/);
  });

  it('penalty: 201 misses once and is demoted (penalty 10) before the next attempt, which 202 answers; the penalty is put back after the cooldown', async () => {
    const { pbx } = lab.bed;
    await warmUp(pbx, 'sales', SALES, ['202', '203']);
    live = await lab.daemon({ ringBack: { policy: 'penalty', cooldownSec: 4 } });
    const from = pbx.mark();
    await callWhere201Misses('5552098');
    await pbx.waitEvent('201 demoted', (m) => m['Event'] === 'QueueMemberPenalty' && m['Interface'] === iface('201') && m['Penalty'] === '10', 20_000, from);
    const { finish } = await finished(live.portal, '5552098');
    expect(finish.params).toMatchObject({ USER_ID: '22', STATUS_CODE: '200' });
    expect(pbx.events.slice(from).filter((e) => e.msg['Event'] === 'AgentCalled').map((e) => e.msg['Interface'])).toEqual([iface('201'), iface('202')]);
    await waitForAsync(async () => (await pbx.member('sales', iface('201')))?.['Penalty'] === '0', '201\'s penalty to be put back', 15_000);
  });

  it('issue 14 case 4, autopause: Asterisk pauses 301 for its miss; the daemon leaves Auto-Pause standing through the call, its cooldown and its shutdown', async () => {
    const { pbx } = lab.bed;
    await warmUpAutopause(pbx);
    live = await lab.daemon({ ringBack: { cooldownSec: 2 } });
    const from = pbx.mark();
    await autopauseMiss({ pbx, down: async () => undefined, up: async () => undefined });
    const { finish } = await finished(live.portal, '5558001');
    expect(finish.params).toMatchObject({ USER_ID: '32', STATUS_CODE: '200' });
    const pauses = pbx.events.slice(from).filter((e) => e.msg['Event'] === 'QueueMemberPause' && e.msg['Interface'] === iface('301'));
    expect(pauses[0]?.msg).toMatchObject({ Paused: '1', PausedReason: 'Auto-Pause' });
    // Past the cooldown, then an orderly shutdown (which releases what the daemon holds): Asterisk's pause stands.
    await sleep(2500);
    await live.stop();
    const stopped = live;
    live = undefined;
    expect(await pbx.member('sales_autopause', iface('301'))).toMatchObject({ Paused: '1', PausedReason: 'Auto-Pause' });
    expect(pbx.events.slice(from).filter((e) => e.msg['Event'] === 'QueueMemberPause' && e.msg['Interface'] === iface('301') && e.msg['Paused'] === '0')).toEqual([]);
    // Whichever event came first, the daemon said why it keeps no pause of its own on 301.
    const why = logLines(stopped).filter((l) => l['iface'] === iface('301') && ['handedBack', 'skipped'].includes(String(l['event'])));
    expect(why.map((l) => [l['event'], l['cause']])).toEqual([expect.arrayContaining([expect.stringMatching(/^(handedBack|skipped)$/), expect.stringMatching(/^(pausedByOther|alreadyPaused)$/)])]);
  });
});

/** The call of missedBy201, without the warm-up (done before the daemon starts, so it is not a call Bitrix24 sees). */
async function callWhere201Misses(customer: string): Promise<void> {
  const { pbx } = lab.bed;
  await pbx.agents({ '201': 'noanswer', '202': 'answer-after-1:4', '203': 'answer-after-1:4' });
  await pbx.customer(customer, 'answer:60');
  await pbx.call(customer, 'sales', { RECORD: 'no' });
}
