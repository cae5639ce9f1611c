import { describe, expect, it } from 'vitest';
import { needsReconcile, normalizeRingBack, readQueueStatus } from '../../src/ringback/normalize.js';
import { traceMessages } from '../support/traces.js';
import { IFACE_201, OUR_REASON, traceEvent } from './support.js';

describe('AMI messages to ring-back inputs', () => {
  it('reads AgentRingNoAnswer with its RingTime in ms and the AMI Timestamp as time', () => {
    const msg = traceEvent('sales_leastrecent_ringback', (m) => m['Event'] === 'AgentRingNoAnswer');
    expect(normalizeRingBack(msg, 0)).toEqual({
      kind: 'ringNoAnswer',
      at: Math.round(Number(msg['Timestamp']) * 1000),
      queue: 'sales',
      iface: IFACE_201,
      memberName: 'Agent 201',
      ringTimeMs: 5000,
    });
  });

  it('takes the receive time instead when asked to (the service runs its timers on its own clock)', () => {
    const msg = traceEvent('sales_leastrecent_ringback', (m) => m['Event'] === 'AgentRingNoAnswer');
    expect(normalizeRingBack(msg, 42, { time: 'received' })?.at).toBe(42);
  });

  it('reads QueueMemberPause with PausedReason, and an unpause with an empty reason', () => {
    const events = traceMessages('ringback_fixed_pause').filter((m) => m['Event'] === 'QueueMemberPause' && m['Interface'] === IFACE_201);
    const inputs = events.map((m) => normalizeRingBack(m, 0));
    expect(inputs).toContainEqual(expect.objectContaining({ kind: 'memberPause', queue: 'sales', paused: true, reason: OUR_REASON }));
    expect(inputs).toContainEqual(expect.objectContaining({ kind: 'memberPause', queue: 'sales', paused: false, reason: '' }));
  });

  it('reads QueueMemberPenalty, AgentConnect and QueueMemberRemoved', () => {
    const penalty = traceEvent('ringback_fixed_penalty', (m) => m['Event'] === 'QueueMemberPenalty' && m['Penalty'] === '10');
    expect(normalizeRingBack(penalty, 0)).toMatchObject({ kind: 'memberPenalty', queue: 'sales', iface: IFACE_201, penalty: 10 });
    const connect = traceEvent('ringback_fixed_pause', (m) => m['Event'] === 'AgentConnect');
    expect(normalizeRingBack(connect, 0)).toMatchObject({ kind: 'agentConnect', queue: 'sales' });
    const removed = traceEvent('queue_actions', (m) => m['Event'] === 'QueueMemberRemoved');
    expect(normalizeRingBack(removed, 0)).toMatchObject({ kind: 'memberRemoved', queue: 'support', iface: 'Local/104@agents/n' });
  });

  it('reads a QueueStatus list: strategies from QueueParams, members by Name/Location, LastPause in ms', () => {
    const list = traceMessages('queue_actions').filter((m) => m['ActionID'] === 'queue_actions-11' && m['Event'] !== undefined);
    const { queues, members } = readQueueStatus(list);
    expect(queues).toEqual([{ queue: 'support', strategy: 'ringall' }]);
    expect(members).toHaveLength(4);
    expect(members).toContainEqual({
      queue: 'support',
      iface: 'Local/101@agents/n',
      memberName: 'Agent 101',
      paused: true,
      reason: 'lunch',
      penalty: 0,
      lastPauseAt: 1795263682000,
    });
    expect(members).toContainEqual(expect.objectContaining({ iface: 'Local/104@agents/n', penalty: 3, lastPauseAt: 0 }));
  });

  it('asks for a reconcile after FullyBooted and after a reload of app_queue or of everything, not of other modules', () => {
    expect(needsReconcile({ Event: 'FullyBooted', Status: 'Fully Booted' })).toBe(true);
    expect(needsReconcile({ Event: 'Reload', Module: 'app_queue.so', Status: '0' })).toBe(true);
    expect(needsReconcile({ Event: 'Reload', Module: 'All', Status: '0' })).toBe(true);
    expect(needsReconcile({ Event: 'Reload', Module: 'res_pjsip.so', Status: '0' })).toBe(false);
    expect(needsReconcile({ Event: 'QueueMemberPause' })).toBe(false);
  });

  it('ignores events it has no use for and events missing Queue or Interface', () => {
    expect(normalizeRingBack({ Event: 'Newchannel', Channel: 'x' }, 0)).toBeUndefined();
    expect(normalizeRingBack({ Event: 'AgentRingNoAnswer', Queue: 'sales' }, 0)).toBeUndefined();
    expect(normalizeRingBack({ Response: 'Success' }, 0)).toBeUndefined();
  });
});
