import { afterEach, describe, expect, it } from 'vitest';
import type { Effect } from '../../src/core/effects.js';
import { startRig, type Rig } from '../support/rig.js';
import { traceBytes } from '../support/traces.js';
import { waitFor } from '../support/wait.js';
import { CRM, USERS } from './harness.js';

/**
 * Recorded Asterisk traces through the whole daemon (the rig: AMI simulator, the daemon's own runtime, core, outbox
 * and CRM wiring, the strict emulator): the dialplan's lookups over the daemon's HTTP server, the register's
 * binding, the blacklist, the follow-up task and the timeline comment.
 */

let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

interface Wired {
  rig: Rig;
  /** Replays the trace and waits until the core has ended its call and the outbox has sent everything. */
  play(trace: string): Promise<void>;
  route(number: string): Promise<string>;
  callerId(number: string): Promise<string>;
}

async function wire(crm: Record<string, unknown>): Promise<Wired> {
  const ended: string[] = [];
  const r = await startRig({
    portal: { users: USERS, crm: CRM, rateLimit: false },
    config: () => ({ users: { extensions: { '101': 11, '102': 12, '103': 13 }, refreshIntervalSec: 0 }, crm }),
    deps: { onEffect: (e: Effect) => void (e.type === 'callEnded' && ended.push(e.linkedid)) },
  });
  rig = r;
  const text = async (path: string, number: string): Promise<string> => {
    const res = await fetch(`${r.base}${path}?number=${encodeURIComponent(number)}`);
    expect(res.status).toBe(200);
    return res.text();
  };
  return {
    rig: r,
    async play(trace) {
      await r.pbx.replay(traceBytes(trace));
      await waitFor(() => ended.length > 0, `the end of the ${trace} call in the core`, 10_000);
      expect(await r.bridge.outbox.drain(5000)).toBe(true);
    },
    route: (number) => text('/route', number),
    callerId: (number) => text('/callerid', number),
  };
}

describe('a known caller nobody answered (caller_abandon)', () => {
  it('is routed, named, bound to the contact without a lead, followed up with a task and noted on the timeline', async () => {
    const { rig: { portal }, play, route, callerId } = await wire({ missedCall: { enabled: true }, timeline: { enabled: true } });
    // The dialplan, while the caller waits.
    expect(await route('5553001')).toBe('101');
    expect(await callerId('5553001')).toBe('Trace Caller');
    await play('caller_abandon');
    await waitFor(() => portal.state.tasks.length > 0 && portal.state.comments.length > 0, 'the follow-up task and the timeline note', 10_000);

    const calls = [...portal.calls.values()];
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ phone: '5553001', crmEntityType: 'CONTACT', crmEntityId: '505', createdLeadId: null, finished: true });
    expect([...portal.state.crm.LEAD.values()].filter((l) => l.origin === 'register')).toHaveLength(0);
    expect(portal.state.tasks.map((t) => [t.fields['TITLE'], t.fields['RESPONSIBLE_ID'], t.fields['UF_CRM_TASK']])).toEqual([['Missed call from Trace Caller', '11', ['C_505']]]);
    expect(portal.state.comments).toEqual([
      { id: 1, entityType: 'contact', entityId: 505, comment: 'Call center: inbound call, nobody answered (304)\nQueue: support\nWaiting time: 8 s\nRung and missed: 101, 102, 103' },
    ]);
    // One search for the whole call: the dialplan's lookups, the register and the follow-up share it.
    expect(portal.requests.filter((r) => r.restMethod === 'telephony.externalcall.searchcrmentities')).toHaveLength(1);
  });
});

describe('a blacklisted caller (caller_abandon)', () => {
  it('is answered blocked, never reaches Bitrix24, and gets no follow-up', async () => {
    const { rig: r, play, route } = await wire({ missedCall: { enabled: true }, timeline: { enabled: true }, blacklist: { numbers: ['5553001'] } });
    expect(await route('5553001')).toBe('blocked');
    const before = r.portal.requests.length;
    await play('caller_abandon');
    expect(r.portal.calls.size).toBe(0);
    expect(r.portal.state.tasks).toHaveLength(0);
    expect(r.portal.state.comments).toHaveLength(0);
    expect(r.portal.requests.slice(before)).toEqual([]);
    expect(r.bridge.crm.gate.size).toBe(0);
  });
});

describe('an unknown caller who is answered (support_ringall_answer)', () => {
  it('creates one lead with the configured source, no follow-up, and a timeline note on the new lead', async () => {
    const { rig: { portal }, play } = await wire({ leads: { source: 'RC_GENERATOR' }, missedCall: { enabled: true }, timeline: { enabled: true } });
    await play('support_ringall_answer');
    await waitFor(() => portal.state.comments.length > 0, 'the timeline note', 10_000);
    const leads = [...portal.state.crm.LEAD.values()].filter((l) => l.origin === 'register');
    expect(leads).toHaveLength(1);
    expect(leads[0]).toMatchObject({ sourceId: 'RC_GENERATOR', phones: [{ VALUE: '5551001' }] });
    expect(portal.state.tasks).toHaveLength(0);
    expect(portal.state.comments).toEqual([
      { id: 1, entityType: 'lead', entityId: leads[0]!.id, comment: 'Call center: inbound call, answered (200)\nQueue: support\nWaiting time: 2 s\nRung and missed: 101, 103\nAnswered by: 102\nTalk time: 5 s' },
    ]);
  });
});

describe('a transferred call from a company (blind_transfer)', () => {
  it('notes the transfer on the company’s timeline', async () => {
    const { rig: { portal }, play } = await wire({ timeline: { enabled: true } });
    await play('blind_transfer');
    await waitFor(() => portal.state.comments.length > 0, 'the timeline note', 10_000);
    expect(portal.state.comments.map((c) => [c.entityType, c.entityId, c.comment])).toEqual([
      ['company', 702, 'Call center: inbound call, answered (200)\nQueue: support\nWaiting time: 1 s\nRung and missed: 101\nAnswered by: 102\nTransfer path: 102 → 103\nTalk time: 11 s'],
    ]);
  });
});
