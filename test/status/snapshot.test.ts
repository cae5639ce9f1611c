import { describe, expect, it } from 'vitest';
import type { ParkedEntry } from '../../src/bitrix/outbox-entry.js';
import { newCall } from '../../src/core/call.js';
import { callToJson } from '../../src/core/snapshot.js';
import type { RingBackChange } from '../../src/ringback/types.js';
import { buildStatus, type StatusInput } from '../../src/status/snapshot.js';

/** The live view's state from hand-made parts: what each part becomes on the page, and what never does. */

const USERS: Record<string, number> = { '101': 11, '102': 12, '103': 13 };

function input(over: Partial<StatusInput> = {}): StatusInput {
  return {
    now: 100_000,
    ami: { connected: true, asteriskVersion: '22.5.2', bootedAt: 1_000, since: 50_000 },
    portal: { reachable: true, problem: undefined, mode: 'webhook', token: null, requestsLastMinute: 7, budgetPerMinute: 120, burst: 50, lastRefusal: undefined },
    calls: [],
    callsTracked: 0,
    holds: new Map(),
    extensionOf: (userId) => Object.keys(USERS).find((ext) => USERS[ext] === userId),
    userOf: (ext) => USERS[ext],
    crmNameOf: (n) => (n === '5551001' ? 'Olga Client' : undefined),
    setAside: [],
    outbox: { depth: 0, oldestCreatedAt: undefined, parked: [] },
    recordingsWaiting: 0,
    transcriptsWaiting: undefined,
    errors: [],
    tokenConfigured: false,
    ...over,
  };
}

function ringingCall() {
  const c = newCall('1700000000.10', 90_000);
  Object.assign(c, { phase: 'ringing', direction: 'inbound', phoneNumber: '5551001', queue: 'support', queueJoinedAt: 91_000, registered: true });
  c.ringing.set('u1', { ext: '101', userId: 11 });
  c.ringing.set('u2', { ext: '102', userId: 12 });
  c.ringing.set('u3', { ext: '103', userId: undefined });
  // 101 rung through a second channel (follow-me): still one person.
  c.ringing.set('u4', { ext: '101', userId: 11 });
  for (const u of [11, 12, 13]) c.cards.add(u);
  return c;
}

describe('calls', () => {
  it('a ringing queue call shows its number, CRM name, queue, the members rung and whose card is open', () => {
    const s = buildStatus(input({ calls: [callToJson(ringingCall())], callsTracked: 1 }));
    expect(s.calls).toEqual([
      {
        linkedid: '1700000000.10',
        direction: 'inbound',
        number: '5551001',
        crmName: 'Olga Client',
        queue: 'support',
        state: 'ringing',
        since: 91_000,
        startedAt: 90_000,
        ringing: [
          { ext: '101', userId: 11 },
          { ext: '102', userId: 12 },
          { ext: '103', userId: 13 },
        ],
        cards: [
          { ext: '101', userId: 11 },
          { ext: '102', userId: 12 },
          { ext: '103', userId: 13 },
        ],
        agent: null,
        registered: true,
      },
    ]);
  });

  it('a talking call names the agent and the answer time; on hold, the hold time', () => {
    const c = ringingCall();
    Object.assign(c, { phase: 'talking', answeredAt: 95_000, talkingExt: '102' });
    c.cards = new Set([12]);
    const talking = buildStatus(input({ calls: [callToJson(c)] })).calls[0]!;
    expect([talking.state, talking.since, talking.agent, talking.ringing, talking.cards]).toEqual(['talking', 95_000, { ext: '102', userId: 12 }, [], [{ ext: '102', userId: 12 }]]);
    const held = buildStatus(input({ calls: [callToJson(c)], holds: new Map([[c.linkedid, 97_000]]) })).calls[0]!;
    expect([held.state, held.since]).toEqual(['onHold', 97_000]);
  });

  it('a call the core has not classified yet (tracking) is counted but not listed', () => {
    const s = buildStatus(input({ calls: [callToJson(newCall('x', 1))], callsTracked: 1 }));
    expect([s.calls, s.callsTracked]).toEqual([[], 1]);
  });
});

describe('ring-back, outbox, errors', () => {
  it('a paused member shows since when and when the undo is due; a penalty its value and what it goes back to', () => {
    const pause: RingBackChange = { queue: 'sales', iface: 'Local/201@agents/n', memberName: 'Agent 201', policy: 'pause', phase: 'active', acked: true, changedAt: 10_000, until: 70_000, cooldownMs: 60_000, level: 0, reason: 'r' };
    const penalty: RingBackChange = { ...pause, iface: 'Local/202@agents/n', memberName: 'Agent 202', policy: 'penalty', changedAt: 5_000, raisedTo: 12, restoreTo: 2 };
    const s = buildStatus(input({ setAside: [pause, penalty] }));
    expect(s.setAside).toEqual([
      { queue: 'sales', iface: 'Local/202@agents/n', member: 'Agent 202', policy: 'penalty', phase: 'active', since: 5_000, undoAt: 70_000, penalty: 12, restoreTo: 2 },
      { queue: 'sales', iface: 'Local/201@agents/n', member: 'Agent 201', policy: 'pause', phase: 'active', since: 10_000, undoAt: 70_000, penalty: null, restoreTo: null },
    ]);
  });

  it('parked commands keep their reason, with any secret inside it blanked; errors too', () => {
    const parked: ParkedEntry = {
      seq: 7, key: '1700.1', kind: 'register', method: 'telephony.externalcall.register', params: { USER_ID: 1 }, needsCallId: false,
      attempts: 1, notBefore: 0, createdAt: 1, parkedAt: 2, error: 'CONTRACT: refused at https://b24.example/rest/1/webhooksecret123456/ with access_token=tok999',
    };
    const s = buildStatus(input({
      outbox: { depth: 3, oldestCreatedAt: 42, parked: [parked] },
      recordingsWaiting: 1,
      errors: [{ level: 'error', message: 'failed: password=hunter2hunter2', count: 2, firstAt: 1, lastAt: 2 }],
    }));
    expect(s.outbox).toEqual({ depth: 3, oldestCreatedAt: 42, parked: [{ seq: 7, method: 'telephony.externalcall.register', call: '1700.1', error: 'CONTRACT: refused at https://b24.example/rest/1/***/ with access_token=***', parkedAt: 2, dependsOn: null }] });
    expect(s.errors).toEqual([{ level: 'error', message: 'failed: password=***', count: 2, firstAt: 1, lastAt: 2 }]);
    expect(s.recordings).toEqual({ waiting: 1 });
    const text = JSON.stringify(s);
    for (const secret of ['webhooksecret123456', 'tok999', 'hunter2hunter2']) expect(text).not.toContain(secret);
  });

  it('transcripts waiting are shown only when transcripts are on', () => {
    expect(buildStatus(input()).transcripts).toBeNull();
    expect(buildStatus(input({ transcriptsWaiting: 0 })).transcripts).toEqual({ waiting: 0 });
    expect(buildStatus(input({ transcriptsWaiting: 4 })).transcripts).toEqual({ waiting: 4 });
  });

  it('the portal part carries the limiter figures and the last refusal; the app token only its state and expiry', () => {
    const s = buildStatus(input({
      portal: { reachable: false, problem: 'portal: batch NETWORK (HTTP none)', mode: 'app', token: { state: 'authorised', refreshTokenExpiresAt: 9e12 }, requestsLastMinute: 3, budgetPerMinute: 120, burst: 50, lastRefusal: { at: 5, method: 'batch', code: 'NETWORK' } },
    }));
    expect(s.portal).toEqual({ reachable: false, problem: 'portal: batch NETWORK (HTTP none)', mode: 'app', token: { state: 'authorised', refreshTokenExpiresAt: 9e12 }, requestsLastMinute: 3, budgetPerMinute: 120, burst: 50, lastRefusal: { at: 5, method: 'batch', code: 'NETWORK' } });
  });
});
