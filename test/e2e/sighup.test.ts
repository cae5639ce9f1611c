import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { AmiMessage } from '../../src/ami/types.js';
import type { RingBackState } from '../../src/ringback/types.js';
import { recordedQueueState } from '../ringback/support.js';
import { processRigPerTest } from '../support/process-rig.js';
import { asTrace, replayEvents, shifted, stamp } from '../support/trace-replay.js';
import { sleep, waitFor } from '../support/wait.js';

/**
 * SIGHUP on the built daemon, in the middle of a call while a ring-back pause is held: the live parts of the new
 * config (log level, user map, ring-back) take effect, and nothing in flight is lost or done twice.
 */

const REASON = 'asterisk-b24-bridge:no-answer';
const IFACE_201 = 'Local/201@agents/n';

const { start, pbx, portal, daemon } = processRigPerTest();

async function setUp(extra: Record<string, unknown> = {}): Promise<void> {
  // The queues as Asterisk had them (sales is leastrecent): QueuePause acts on them and sends QueueMemberPause.
  const rig = await start({ pbx: { queueState: recordedQueueState() } });
  await rig.start({
    asterisk: { ami: { reconnect: undefined } },
    bitrix: { timeoutMs: 2000 },
    users: { extensions: {} },
    ringBack: { cooldownSec: 6 },
    log: { level: 'info' },
    ...extra,
  });
  await waitFor(() => pbx().received.some((a) => a['Action'] === 'QueueStatus'), 'the ring-back reconcile', 5000);
}

/** Rewrites the daemon's config file with `change` applied, then sends SIGHUP and waits for the reload. */
async function reload(change: (cfg: Record<string, any>) => void): Promise<void> {
  const cfg = parse(readFileSync(daemon().configFile, 'utf8')) as Record<string, any>;
  change(cfg);
  writeFileSync(daemon().configFile, stringify(cfg));
  const before = daemon().output().length;
  daemon().child.kill('SIGHUP');
  await waitFor(() => daemon().output().slice(before).includes('configuration reloaded'), 'the reload', 5000);
}

const logLines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: number; msg: string });

const telephony = (method: string) => portal().commands.filter((c) => c.method === `telephony.externalcall.${method}`);
const callIdOf = (linkedid: string) =>
  (telephony('register').find((c) => c.ok && c.params['EXTERNAL_CALL_ID'] === linkedid)?.result as { CALL_ID: string } | undefined)?.CALL_ID;
const ofCall = (callId: string) => (c: { params: Record<string, unknown> }) => c.params['CALL_ID'] === callId;
const finishesOf = (linkedid: string) => {
  const callId = callIdOf(linkedid);
  return callId === undefined ? [] : telephony('finish').filter(ofCall(callId));
};
const users = (cs: Array<{ params: Record<string, unknown> }>) => cs.flatMap((c) => ([] as unknown[]).concat(c.params['USER_ID']).map(String));
const isUnpause201 = (a: AmiMessage) => a['Action'] === 'QueuePause' && a['Interface'] === IFACE_201 && a['Paused'] === 'false';

describe('SIGHUP', () => {
  it('during a call with a ring-back pause held: the call finishes once, the new log level, user map and ring-back settings apply, the undo still comes', async () => {
    await setUp();
    // ringback_fixed_pause without the recorder's own QueuePause echoes: the daemon is the fix now, and the
    // simulator answers its QueuePause with the QueueMemberPause Asterisk sends.
    const events = replayEvents('ringback_fixed_pause').filter((e) => e['Event'] !== 'QueueMemberPause');
    const miss = events.find((e) => e['Event'] === 'AgentRingNoAnswer' && e['Interface'] === IFACE_201)!;
    const mainCall = String(miss['Linkedid']);
    // Cut right after 201's miss: the caller is still waiting for the queue's next attempt (202, 1 s later).
    const cut = events.findIndex((e) => e['Event'] === 'AgentCalled' && e['Linkedid'] === mainCall && e['Interface'] !== IFACE_201);
    expect(stamp(events[cut]) - stamp(miss)).toBeGreaterThan(0.9);

    await pbx().replay(asTrace(events.slice(0, cut)), { speed: 4 });
    const pause = await pbx().waitForAction('QueuePause', (a) => a['Interface'] === IFACE_201 && a['Paused'] === 'true', 5000);
    const pausedAt = Date.now();
    expect(pause).toMatchObject({ Queue: 'sales', Reason: REASON });
    const stateFile = join(parse(readFileSync(daemon().configFile, 'utf8')).state.dir as string, 'ringback.json');
    const held = () => (JSON.parse(readFileSync(stateFile, 'utf8')) as RingBackState).changes.find((c) => c.iface === IFACE_201);
    await waitFor(() => held()?.phase === 'active', 'the pause confirmed by its QueueMemberPause', 3000);
    expect(finishesOf(mainCall)).toEqual([]); // the call is still on
    expect(logLines(daemon().output()).filter((l) => l.level < 30)).toEqual([]);

    await reload((cfg) => {
      cfg.log.level = 'debug';
      cfg.users.extensions = { '102': 23 }; // 102's calls now go to Fedor (23) instead of Boris (12, from UF_PHONE_INNER)
      cfg.ringBack.cooldownSec = 1;
    });
    const afterReload = daemon().output().length;
    expect(held()).toMatchObject({ phase: 'active', cooldownMs: 6000 }); // the held pause keeps its own deadline

    await pbx().replay(asTrace(events.slice(cut)), { speed: 4 });
    await waitFor(() => finishesOf(mainCall).length > 0, 'the finish of the call', 10_000);

    // The pause is undone on time by the same records, at its 6 s deadline (not 1 s, not never).
    const undo = await pbx().waitForAction('QueuePause', isUnpause201, 10_000);
    expect(Date.now() - pausedAt).toBeGreaterThanOrEqual(5500);
    expect(undo).toEqual(expect.objectContaining({ Queue: 'sales', Interface: IFACE_201, Paused: 'false' }));
    await waitFor(() => /ring-back: our pause undone/.test(daemon().output()), 'the undo log line', 3000);
    expect(held()).toBeUndefined();
    expect(pbx().received.filter(isUnpause201)).toHaveLength(1);

    // The next call, support_ringall_answer replayed after this one: 102's card and finish go to the new user.
    const support = replayEvents('support_ringall_answer');
    const nextCall = String(support.find((e) => e['Event'] === 'Newchannel')!['Linkedid']);
    await pbx().replay(asTrace(shifted(support, stamp(events.at(-1)) + 5 - stamp(support[0]))), { speed: 5 });
    await waitFor(() => finishesOf(nextCall).length > 0, 'the finish of the next call', 10_000);

    expect(finishesOf(mainCall)).toHaveLength(1);
    expect(finishesOf(mainCall)[0]!.params).toMatchObject({ USER_ID: '22', STATUS_CODE: '200' });
    expect(users(telephony('show').filter(ofCall(callIdOf(nextCall)!))).sort()).toEqual(['11', '13', '23']);
    expect(finishesOf(nextCall).map((c) => c.params['USER_ID'])).toEqual(['23']);
    // Every call of both traces registered once and finished once.
    const registered = telephony('register').filter((c) => c.ok);
    expect(new Set(registered.map((c) => c.params['EXTERNAL_CALL_ID'])).size).toBe(registered.length);
    for (const r of registered) expect(telephony('finish').filter(ofCall((r.result as { CALL_ID: string }).CALL_ID))).toHaveLength(1);

    // debug lines only after the reload, and they are there (each Bitrix24 request logs one).
    const debugAfter = logLines(daemon().output().slice(afterReload)).filter((l) => l.level === 20);
    expect(debugAfter.map((l) => l.msg)).toContain('bitrix request ok');
    expect(daemon().alive()).toBe(true);
  }, 60_000);

  it('with users.refreshIntervalSec 0 a SIGHUP does not load the portal map: the config map stays the only one', async () => {
    await setUp({ users: { extensions: { '102': 23 }, refreshIntervalSec: 0 } });
    await reload((cfg) => {
      cfg.users.extensions = { '101': 23 };
    });
    // A user.get would bring UF_PHONE_INNER (102 -> 12...) back under the config map.
    await sleep(300);
    expect(portal().commands.filter((c) => c.method === 'user.get')).toEqual([]);
  });
});
