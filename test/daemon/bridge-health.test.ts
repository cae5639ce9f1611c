import { expect, it } from 'vitest';
import type { ParkedEntry } from '../../src/bitrix/outbox-entry.js';
import { bridgeHealth, WRONG_AUTH_TYPE_ADVICE } from '../../src/daemon/health.js';
import { PortalHealth } from '../../src/daemon/portal-health.js';
import { Problems } from '../../src/daemon/problems.js';

function parkedEntry(seq: number, method: string, error: string, parkedAt: number): ParkedEntry {
  return { seq, key: `call-${seq}`, kind: 'register', method, params: {}, needsCallId: false, attempts: 1, notBefore: 0, createdAt: 0, parkedAt, error };
}

/** The parked commands' problems are read off the outbox: they appear with the first park and go with the last. */
it('shows the latest parked command and the app-mode advice while the outbox holds them, and nothing once they are retried', () => {
  let parked: ParkedEntry[] = [];
  const problems = new Problems();
  problems.set('retrying', 'portal: batch TIMEOUT (HTTP none)', false);
  const health = () => bridgeHealth({ ami: { isConnected: true }, portal: new PortalHealth(() => 0), outbox: { depth: 0, parkedEntries: () => parked }, problems });

  expect(health()).toEqual({ ami: true, portal: true, outboxDepth: 0, parked: 0, lastError: 'portal: batch TIMEOUT (HTTP none)', problems: [{ kind: 'retrying', text: 'portal: batch TIMEOUT (HTTP none)', degrading: false }] });

  parked = [
    parkedEntry(3, 'telephony.externalcall.register', 'WRONG_AUTH_TYPE: Current authorization type is denied for this method', 2000),
    parkedEntry(1, 'telephony.externalcall.finish', 'ERROR_CORE: CALL_ID not found', 1000),
  ];
  expect(health().parked).toBe(2);
  expect(health().problems).toEqual([
    { kind: 'retrying', text: 'portal: batch TIMEOUT (HTTP none)', degrading: false },
    { kind: 'parked', text: 'parked telephony.externalcall.register: WRONG_AUTH_TYPE: Current authorization type is denied for this method', degrading: false },
    { kind: 'authType', text: WRONG_AUTH_TYPE_ADVICE, degrading: true },
  ]);

  // The refused register was retried (app mode); the other one stays: a warning, no longer the advice.
  parked = parked.filter((p) => p.seq === 1);
  expect(health().problems.slice(1)).toEqual([{ kind: 'parked', text: 'parked telephony.externalcall.finish: ERROR_CORE: CALL_ID not found', degrading: false }]);

  parked = [];
  problems.clear('retrying');
  expect(health()).toEqual({ ami: true, portal: true, outboxDepth: 0, parked: 0, problems: [] });
});
