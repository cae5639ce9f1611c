import { describe, expect, it } from 'vitest';
import type { AmiMessage } from '../../src/ami/types.js';
import { normalize } from '../../src/core/normalize.js';
import { DEMO_USERS } from '../../src/demo/scenarios.js';
import { recordedQueueState } from '../ringback/support.js';
import { processRigPerTest } from '../support/process-rig.js';
import { parseMetrics, valueOf, type Sample } from '../support/prometheus.js';
import { asTrace, replayEvents } from '../support/trace-replay.js';
import { TRACE_USERS, traceTracker } from '../support/traces.js';
import { sleep, waitFor } from '../support/wait.js';

/**
 * GET /metrics from the built daemon while and after it serves a recorded trace: every number is checked against
 * what the other side saw (the simulator's events, the emulator's requests) or what the pure core decides.
 */

const IFACE_201 = 'Local/201@agents/n';
const CONTEXTS = { inbound: ['from-trunk', 'incoming'], outbound: ['outbound', 'from-internal-outbound'], internal: ['from-internal', 'agents'] };

const { start, daemon } = processRigPerTest();

async function scrape(): Promise<Sample[]> {
  const res = await fetch(`${daemon().httpBase()!}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseMetrics(await res.text());
}

/** Cards the pure core shows and hides for these events, with the same users and contexts as the daemon. */
function coreCards(events: AmiMessage[], users: Record<string, number>) {
  const tracker = traceTracker({ users });
  const counts = { shown: 0, hidden: 0, unmapped: 0 };
  for (const msg of events) {
    const input = normalize(msg, 0);
    if (!input) continue;
    for (const e of tracker.handle(input)) {
      if (e.type === 'show') counts.shown += e.userIds.length;
      else if (e.type === 'hide') counts.hidden += e.userIds.length;
      else if (e.type === 'unmappedExtension') counts.unmapped++;
    }
  }
  return counts;
}

describe('GET /metrics from the running daemon', () => {
  it('after ringback_fixed_pause: AMI events, cards, active calls, REST requests by method and status, ring-back changes', async () => {
    // 203 (Fedor) is not on this portal: its rings count as an unmapped extension.
    const rig = await start({ portal: { users: DEMO_USERS.filter((u) => u.ID !== '23') }, pbx: { queueState: recordedQueueState() } });
    const { portal, pbx } = rig;
    await rig.start({
      asterisk: { ami: { reconnect: undefined }, contexts: CONTEXTS },
      bitrix: { timeoutMs: 2000 },
      outbox: { maxRetryDelayMs: 300 },
      ringBack: { cooldownSec: 1.5 },
      log: { level: 'info' },
    });
    await waitFor(() => daemon().httpBase(), 'the daemon to say it started', 15_000);
    await waitFor(() => pbx.received.some((a) => a['Action'] === 'QueueStatus'), 'the ring-back reconcile', 5000);

    // The recorder's own QueuePause echoes are left out: the daemon is the fix here, the simulator answers its actions.
    const events = replayEvents('ringback_fixed_pause').filter((e) => e['Event'] !== 'QueueMemberPause');
    const miss = events.find((e) => e['Event'] === 'AgentRingNoAnswer' && e['Interface'] === IFACE_201)!;
    const cut = events.indexOf(miss) + 1;
    portal.faults.failNext(1, { status: 503, error: 'QUERY_LIMIT_EXCEEDED', error_description: 'Too many requests' });

    // During the main call, 201 paused.
    await pbx.replay(asTrace(events.slice(0, cut)), { speed: 20 });
    await pbx.waitForAction('QueuePause', (a) => a['Interface'] === IFACE_201 && a['Paused'] === 'true', 5000);
    await waitFor(() => /member paused after a missed ring/.test(daemon().output()), 'the pause applied', 3000);
    const during = await scrape();
    expect(valueOf(during, 'b24bridge_active_calls')).toBe(1);
    expect(valueOf(during, 'b24bridge_ringback_members_set_aside')).toBe(1);
    expect(valueOf(during, 'b24bridge_ringback_changes_total', { event: 'applied', queue: 'sales', policy: 'pause', cause: 'noAnswer' })).toBe(1);
    expect(valueOf(during, 'b24bridge_ringback_changes_total', { event: 'undone' })).toBe(0);

    // The rest of the call, then the cooldown (1.5 s) ends: the pause is undone.
    await pbx.replay(asTrace(events.slice(cut)), { speed: 20 });
    await pbx.waitForAction('QueuePause', (a) => a['Interface'] === IFACE_201 && a['Paused'] === 'false', 5000);
    await waitFor(() => /our pause undone/.test(daemon().output()), 'the undo', 3000);
    await waitFor(() => portal!.commands.filter((c) => c.method === 'telephony.externalcall.finish' && c.ok).length === 3, 'three finishes', 10_000);
    await sleep(300); // let the last responses be counted
    const after = await scrape();

    // AMI: FullyBooted, every replayed event, and the QueueMemberPause of our pause and of its undo.
    const ours = pbx.received.filter((a) => a['Action'] === 'QueuePause').length;
    expect(ours).toBe(2);
    expect(valueOf(after, 'b24bridge_ami_events_total')).toBe(1 + events.length + ours);
    expect(valueOf(after, 'b24bridge_ami_connected')).toBe(1);

    const users = Object.fromEntries(Object.entries(TRACE_USERS).filter(([ext]) => ext !== '203'));
    const cards = coreCards(events, users);
    expect(cards.shown).toBeGreaterThan(0);
    expect(cards.unmapped).toBeGreaterThan(0);
    expect(valueOf(after, 'b24bridge_cards_total', { action: 'shown' })).toBe(cards.shown);
    expect(valueOf(after, 'b24bridge_cards_total', { action: 'hidden' })).toBe(cards.hidden);
    expect(valueOf(after, 'b24bridge_unmapped_extensions_total')).toBe(cards.unmapped);
    expect(valueOf(after, 'b24bridge_calls_finished_total')).toBe(3);
    expect(valueOf(after, 'b24bridge_active_calls')).toBe(0);

    // REST: exactly what the portal answered, per method and status (the 503 included).
    const seen = new Map<string, number>();
    for (const r of portal.requests) {
      if (r.restMethod === null) continue;
      const key = `${r.restMethod} ${r.status}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    const counted = new Map<string, number>();
    for (const s of after.filter((x) => x.name === 'b24bridge_rest_requests_total')) {
      counted.set(`${s.labels['method']!.toLowerCase()} ${s.labels['status']}`, s.value);
    }
    expect(counted).toEqual(seen);
    expect([...seen.keys()]).toContain('batch 503');

    expect(valueOf(after, 'b24bridge_ringback_members_set_aside')).toBe(0);
    expect(valueOf(after, 'b24bridge_ringback_changes_total', { event: 'applied', cause: 'noAnswer' })).toBe(1);
    expect(valueOf(after, 'b24bridge_ringback_changes_total', { event: 'undone', queue: 'sales', policy: 'pause', cause: 'cooldownOver' })).toBe(1);
    expect(valueOf(after, 'b24bridge_ringback_changes_total')).toBe(2);
  }, 60_000);
});
