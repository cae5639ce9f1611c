import { networkInterfaces } from 'node:os';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AmiMessage } from '../../src/ami/types.js';
import type { StatusSnapshot } from '../../src/status/types.js';
import { launchChromium } from '../support/browser.js';
import { parseMetrics, valueOf } from '../support/prometheus.js';
import { asTrace, copied, replayEvents, startingNow } from '../support/trace-replay.js';
import { IFACE_201, SECRETS, startStatusRig, type StatusRig } from '../support/status-rig.js';
import { waitFor, waitForAsync } from '../support/wait.js';

/**
 * The live view in a real browser (Debian's Chromium through playwright-core) against the daemon, the AMI simulator
 * replaying recorded traces chunk by chunk, and the strict Bitrix24 emulator: what the page shows at each step of a
 * call, the two actions, who is refused, and that no secret ever reaches the page, the JSON or the event stream.
 */

let rig: StatusRig;
let browser: Browser;
let page: Page;
/** Every /status.json body and the raw event stream, for the secret check at the end. */
const seen: string[] = [];
let stream = '';
const streamAbort = new AbortController();

async function state(): Promise<StatusSnapshot> {
  const res = await fetch(`${rig.base}/status.json`);
  const text = await res.text();
  seen.push(text);
  expect(res.status).toBe(200);
  return JSON.parse(text) as StatusSnapshot;
}

async function metrics() {
  const res = await fetch(`${rig.base}/metrics`);
  return parseMetrics(await res.text());
}

const cut = (events: AmiMessage[], pred: (e: AmiMessage) => boolean, from = 0): number => {
  const i = events.findIndex((e, k) => k >= from && pred(e));
  if (i < 0) throw new Error('no such event in the trace');
  return i;
};
const replay = (events: AmiMessage[]) => rig.pbx.replay(asTrace(events), { speed: 0 });
const attr = (sel: string, name: string) => page.locator(sel).evaluateAll((els, n) => els.map((e) => e.getAttribute(n)), name);

beforeAll(async () => {
  browser = await launchChromium();
  rig = await startStatusRig();
  await waitFor(() => rig.portal.commands.some((c) => c.method === 'user.get'), 'the user map load', 10_000);
  await waitFor(() => rig.pbx.received.some((a) => a['Action'] === 'QueueStatus'), 'the ring-back reconcile', 5000);
  // The event stream as a program would read it, open for the whole file.
  void fetch(`${rig.base}/status/events`, { signal: streamAbort.signal })
    .then(async (res) => {
      const reader = res.body!.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        stream += Buffer.from(value).toString('utf8');
      }
    })
    .catch(() => undefined);
  page = await browser.newPage({ locale: 'en-GB' });
  await page.goto(`${rig.base}/status`);
  await page.waitForSelector('#feed.ok', { timeout: 10_000 });
}, 30_000);

afterAll(async () => {
  streamAbort.abort();
  await browser?.close();
  await rig?.close();
});

describe('the live view in a browser', () => {
  it('shows the connections, and signs in with the token (actions need it, from loopback too)', async () => {
    await page.waitForSelector('#ami .badge.ok');
    // CoreSettings' version and FullyBooted's uptime (the simulator booted 1000 s before it started).
    await waitForAsync(async () => (await page.locator('#ami').textContent())?.includes('22.10.1'), 'the Asterisk version', 5000);
    expect(await page.locator('#ami [data-since]').textContent()).toMatch(/^16m \d+s$/);
    expect(await page.locator('#portal .badge').textContent()).toBe('reachable');
    expect(await page.locator('#access-note').textContent()).toContain('Sign in with the status token');
    expect(await page.locator('button.release, button.retry').count()).toBe(0);
    await page.fill('#token', SECRETS.statusToken);
    await Promise.all([page.waitForURL(`${rig.base}/status`), page.press('#token', 'Enter')]);
    await page.waitForSelector('#sign-out:not([hidden])');
    expect(await page.locator('#access-note').textContent()).toBe('You may release members and retry parked commands.');
  });

  it('a replayed queue call: ringing with the three members\' cards, then talking with the agent, then gone', async () => {
    const events = startingNow(replayEvents('support_ringall_answer'));
    // The first member's ring to end: until then all three ring.
    const answered = cut(events, (e) => e['Event'] === 'DialEnd' && /^Local\/10\d@agents/.test(String(e['DestChannel'])));
    const connected = cut(events, (e) => e['Event'] === 'AgentConnect');
    const callerGone = cut(events, (e) => e['Event'] === 'Hangup' && String(e['Channel']).startsWith('Local/5551001@customer-phone'), connected);

    // The dialplan's caller-name lookup while the caller waits: the page then shows the CRM name too.
    const callerId = await fetch(`${rig.base}/callerid?number=5551001`, { headers: { 'x-token': SECRETS.lookupToken } });
    expect([callerId.status, await callerId.text()]).toEqual([200, 'Olga Client']);
    await replay(events.slice(0, answered));
    await page.waitForSelector('li.call[data-state="ringing"]', { timeout: 10_000 });
    await waitForAsync(async () => (await attr('li.call .cards .person', 'data-ext')).length === 3, 'three cards on the page', 5000);
    expect(await attr('li.call .cards .person', 'data-ext')).toEqual(['101', '102', '103']);
    expect(await attr('li.call .ringing .person', 'data-ext')).toEqual(['101', '102', '103']);
    expect(await page.locator('li.call .number').textContent()).toBe('5551001');
    expect(await page.locator('li.call .crm').textContent()).toBe(' · Olga Client');
    // What the emulated portal received: the cards of exactly these users.
    await waitFor(() => rig.portal.commands.some((c) => c.method === 'telephony.externalcall.show' && c.ok), 'the show command', 5000);
    const shown = new Set(rig.portal.commands.filter((c) => c.method === 'telephony.externalcall.show' && c.ok).flatMap((c) => ([] as unknown[]).concat(c.params['USER_ID']).map(Number)));
    expect([...shown].sort()).toEqual([11, 12, 13]);
    const ringing = await state();
    expect(ringing.calls.map((c) => [c.state, c.cards.map((p) => p.userId)])).toEqual([['ringing', [11, 12, 13]]]);
    // The same numbers as /metrics.
    const m = await metrics();
    expect(ringing.callsTracked).toBe(valueOf(m, 'b24bridge_active_calls'));
    expect(ringing.outbox.depth).toBe(valueOf(m, 'b24bridge_outbox_depth'));
    expect(ringing.outbox.parked.length).toBe(valueOf(m, 'b24bridge_outbox_parked'));

    await replay(events.slice(answered, callerGone));
    await page.waitForSelector('li.call[data-state="talking"] .agent .person[data-ext="102"]', { timeout: 10_000 });
    await waitForAsync(async () => (await attr('li.call .cards .person', 'data-ext')).join() === '102', 'the other cards hidden', 5000);
    expect(await page.locator('li.call .badge.talking').textContent()).toBe('talking');

    await replay(events.slice(callerGone));
    await page.waitForSelector('#call-list li.empty', { timeout: 10_000 });
    expect(await page.locator('li.call').count()).toBe(0);
    await waitFor(() => rig.portal.commands.some((c) => c.method === 'telephony.externalcall.finish' && c.ok), 'the finish', 5000);
    const after = await state();
    const m2 = await metrics();
    expect([after.calls.length, after.callsTracked]).toEqual([0, valueOf(m2, 'b24bridge_active_calls')]);
  });

  it('a ring-back pause shows with its undo time; Release unpauses the member, and the simulator sees the QueuePause', async () => {
    const events = startingNow(replayEvents('ringback_fixed_pause').filter((e) => e['Event'] !== 'QueueMemberPause'));
    const miss = cut(events, (e) => e['Event'] === 'AgentRingNoAnswer' && e['Interface'] === IFACE_201) + 1;
    await replay(events.slice(0, miss));
    await rig.pbx.waitForAction('QueuePause', (a) => a['Interface'] === IFACE_201 && a['Paused'] === 'true', 5000);
    const member = `li.member[data-iface="${IFACE_201}"]`;
    await page.waitForSelector(member, { timeout: 10_000 });
    const s = await state();
    const paused = s.setAside.find((x) => x.iface === IFACE_201)!;
    expect([paused.queue, paused.policy, paused.undoAt - paused.since]).toEqual(['sales', 'pause', 600_000]);
    expect(await page.locator(`${member} .undo-at`).textContent()).toBe(new Date(paused.undoAt).toLocaleTimeString('en-GB'));
    expect(await page.locator(`${member} .policy`).textContent()).toMatch(/^paused/);
    expect(s.setAside.length).toBe(valueOf(await metrics(), 'b24bridge_ringback_members_set_aside'));

    const before = rig.pbx.received.length;
    await page.locator(`${member} button.release`).focus();
    await page.keyboard.press('Enter'); // usable without a mouse
    const undo = await rig.pbx.waitForAction('QueuePause', (a) => a['Interface'] === IFACE_201 && a['Paused'] === 'false', 5000);
    expect(undo['Queue']).toBe('sales');
    expect(rig.pbx.received.indexOf(undo)).toBeGreaterThanOrEqual(before);
    await page.waitForSelector('#setaside-list li.empty', { timeout: 5000 });
    expect(await page.locator('#action-result').textContent()).toBe('Done.');
    await replay(events.slice(miss));
    await waitForAsync(async () => rig.bridge.outbox.depth === 0 && (await state()).calls.length === 0, 'the calls finished', 10_000);
  });

  it('a parked command shows with its reason; Retry sends it and the portal takes it', async () => {
    const events = startingNow(copied(replayEvents('caller_abandon'), 7));
    // Every call registered so far is finished in the portal: the refusal below can only hit this call's register.
    await waitFor(() => {
      const ok = (m: string) => rig.portal.commands.filter((c) => c.method === `telephony.externalcall.${m}` && c.ok);
      const finished = new Set(ok('finish').map((c) => c.params['CALL_ID']));
      return ok('register').every((c) => finished.has((c.result as { CALL_ID: string }).CALL_ID));
    }, 'every earlier call finished in the portal', 15_000);
    // The portal refuses the next request (the register's batch) as a contract error: the outbox parks it.
    rig.portal.faults.failNext(1, { status: 400, error: 'ERROR_CORE', error_description: `refused; see ${rig.portal.webhookUrl} token=${SECRETS.statusToken}` });
    await replay(events);
    await page.waitForSelector('li.parked', { timeout: 10_000 });
    const s = await state();
    expect(s.outbox.parked.length).toBeGreaterThan(0);
    expect(s.outbox.parked.length).toBe(valueOf(await metrics(), 'b24bridge_outbox_parked'));
    const register = s.outbox.parked.find((p) => p.method === 'telephony.externalcall.register')!;
    expect(register.error).toContain('ERROR_CORE');
    expect(await page.locator(`li.parked[data-seq="${register.seq}"] .meta`).textContent()).toContain('ERROR_CORE');
    const registersBefore = rig.portal.commands.filter((c) => c.method === 'telephony.externalcall.register' && c.ok).length;
    await page.locator(`li.parked[data-seq="${register.seq}"] button.retry`).click();
    await page.waitForSelector('#parked-list li.empty', { timeout: 10_000 });
    await waitFor(() => rig.portal.commands.filter((c) => c.method === 'telephony.externalcall.register' && c.ok).length === registersBefore + 1, 'the register delivered', 10_000);
    await waitFor(() => rig.bridge.outbox.depth === 0, 'the outbox drained', 10_000);
    const after = await state();
    expect([after.outbox.parked, after.outbox.depth]).toEqual([[], 0]);
    // The refusal the portal gave is among the recent errors, on the page too, with its secrets blanked.
    expect(after.errors.some((e) => /park/i.test(e.message))).toBe(true);
    expect(await page.locator('#error-list li.error').count()).toBeGreaterThan(0);
  });

  it('from a non-loopback address without the token, the page, the JSON and the events are refused', async () => {
    const address = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    if (address === undefined) throw new Error('this test needs a non-loopback IPv4 address on this machine (none found in os.networkInterfaces())');
    const base = `http://${address}:${rig.bridge.endpoint.server.port}`;
    const pageRes = await fetch(`${base}/status`);
    const body = await pageRes.text();
    expect(pageRes.status).toBe(401);
    expect(body).toContain('action="/status/sign-in"');
    expect(body).not.toContain('status.js');
    for (const path of ['/status.json', '/status/events']) {
      const res = await fetch(`${base}${path}`);
      expect([res.status, ((await res.json()) as { error: string }).error]).toEqual([401, 'UNAUTHORIZED']);
    }
    const withToken = await fetch(`${base}/status.json`, { headers: { 'x-status-token': SECRETS.statusToken } });
    expect(withToken.status).toBe(200);
    const remote = (await withToken.json()) as { viewer: { local: boolean; canAct: boolean } };
    expect(remote.viewer).toEqual({ local: false, canAct: true, signedIn: true });
  });

  it('the Russian page, switched by hand and remembered', async () => {
    await page.click('button[data-lang="ru"]');
    expect(await page.locator('#h-calls [data-t="calls"]').textContent()).toBe('Звонки сейчас');
    expect(await page.locator('html').getAttribute('lang')).toBe('ru');
    await page.reload();
    await page.waitForSelector('#feed.ok');
    expect(await page.locator('#call-list li.empty').textContent()).toBe('Сейчас звонков нет.');
    await page.click('button[data-lang="en"]');
  });

  it('no secret anywhere: not in the HTML, the JSON, the event stream (or the log)', async () => {
    seen.push(await page.content());
    await state();
    const texts = { html: seen.filter((t) => t.startsWith('<')).join('\n'), json: seen.filter((t) => t.startsWith('{')).join('\n'), events: stream, log: rig.log() };
    // Each place really holds the state it was checked in.
    expect(texts.html).toContain('li');
    expect(texts.json).toContain('"calls"');
    expect(texts.events).toContain('event: status');
    expect(texts.events).toContain('5551001');
    expect(texts.events).toContain('ERROR_CORE');
    for (const [where, text] of Object.entries(texts)) {
      for (const secret of Object.values(SECRETS)) expect(text, `${secret} in ${where}`).not.toContain(secret);
      expect(text, `the AMI secret in ${where}`).not.toContain('ami-secret');
    }
  });
});
