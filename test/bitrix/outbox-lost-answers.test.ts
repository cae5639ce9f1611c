import { describe, expect, it } from 'vitest';
import { isoWithOffset } from '../../src/bitrix/commands.js';
import { createBitrixError } from '../../src/bitrix/errors.js';
import { MemoryOutboxStore } from '../../src/bitrix/outbox-entry.js';
import { FINISH, REGISTER, SHOW, fakeClient, makeOutbox, ok } from './outbox-fakes.js';

/**
 * An answer lost after the portal did the work (the connection reset once the request was processed) must never
 * make a second call: the register is repeated unchanged while Bitrix24 still recognises the repeat, its finish
 * never shares its request, and past Bitrix24's window the register waits for an admin.
 */

const reset = () => createBitrixError('batch', { type: 'network', code: 'ECONNRESET', name: 'RequestError', message: 'read ECONNRESET' });
const MIN = 60_000;

function registerParams(startedAt: number) {
  return { USER_ID: 11, PHONE_NUMBER: '+74951234567', TYPE: 2, CALL_START_DATE: isoWithOffset(startedAt, 180), SHOW: 0, EXTERNAL_CALL_ID: 'L1' };
}

describe('a lost answer', () => {
  it('repeats the register with exactly the same params, and sends the finish only once the CALL_ID is known', async () => {
    const { client, batches } = fakeClient((cmds, n) => {
      if (n === 1) throw reset();
      return ok(cmds);
    });
    const o = makeOutbox(client);
    o.enqueue('L1', 'register', REGISTER, registerParams(Date.now()), false);
    o.enqueue('L1', 'show', SHOW, { USER_ID: [12] });
    o.enqueue('L1', 'finish', FINISH, { USER_ID: 11, DURATION: 0, STATUS_CODE: '304' });
    expect(await o.drain(2000)).toBe(true);
    expect(batches.map((b) => b.map((c) => c.method))).toEqual([[REGISTER, SHOW], [REGISTER, SHOW], [FINISH]]);
    expect(batches[1]![0]!.params).toEqual(batches[0]![0]!.params);
    expect(batches[2]![0]!.params['CALL_ID']).toBe(`externalCall.${batches[1]![0]!.key}`);
    expect(o.parkedEntries()).toEqual([]);
  });

  it('parks the register, with what to check, once Bitrix24 would no longer recognise the repeat, and its commands with it', async () => {
    const start = Date.parse('2026-12-05T10:00:00Z');
    let offset = start - Date.now();
    const clock = () => Date.now() + offset;
    const { client, batches } = fakeClient((cmds, n) => {
      if (n === 1) {
        offset += 26 * MIN; // the request hung until long after the start, then the connection reset
        throw reset();
      }
      return ok(cmds);
    });
    const o = makeOutbox(client, { clock });
    o.enqueue('L1', 'register', REGISTER, registerParams(start), false);
    o.enqueue('L1', 'show', SHOW, { USER_ID: [12] });
    o.enqueue('L1', 'finish', FINISH, { USER_ID: 11, DURATION: 0, STATUS_CODE: '304' });
    expect(await o.drain(2000)).toBe(true);
    expect(batches).toHaveLength(1);
    const parked = o.parkedEntries();
    expect(parked.map((p) => p.kind)).toEqual(['register', 'show', 'finish']);
    const reg = parked[0]!;
    expect(reg.error).toBe(
      'register answer lost (NETWORK: read ECONNRESET) and Bitrix24 only recognises a repeat within 30 minutes of CALL_START_DATE ' +
        `2026-12-05T10:00:00.000Z: sending it again could make a second call. Check Bitrix24 for a call from +74951234567 to user 11 ` +
        `started then (EXTERNAL_CALL_ID L1; before it is finished only a lead it created shows it); if there is none, run: parked --retry ${reg.seq}`,
    );
    expect(parked[2]!.error).toMatch(new RegExp(`^register failed \\(seq ${reg.seq}\\), parked with it: register answer lost`));

    // The admin found no such call and retries: sent once more, then the rest of the call.
    expect(o.retryParked(reg.seq)).toBe(true);
    expect(await o.drain(2000)).toBe(true);
    expect(batches.slice(1).map((b) => b.map((c) => c.method))).toEqual([[REGISTER, SHOW], [FINISH]]);
    expect(batches[1]![0]!.params).toEqual(batches[0]![0]!.params);
    expect(o.parkedEntries()).toEqual([]);
  });

  it('after a kill -9, repeats a register that was on the wire while Bitrix24 still recognises it, and parks one too old', async () => {
    const now = Date.now();
    const store = new MemoryOutboxStore();
    const onDisk = (seq: number, key: string, startedAt: number) =>
      store.put({ seq, key, kind: 'register', method: REGISTER, params: { ...registerParams(startedAt), EXTERNAL_CALL_ID: key }, needsCallId: false, attempts: 0, notBefore: 0, createdAt: startedAt, uncertain: true });
    onDisk(1, 'recent', now - 20 * MIN);
    onDisk(2, 'old', now - 40 * MIN);
    const { client, batches } = fakeClient(ok);
    const o = makeOutbox(client, {}, store);
    expect(await o.drain(2000)).toBe(true);
    expect(batches.flat().map((c) => c.params['EXTERNAL_CALL_ID'])).toEqual(['recent']);
    expect(o.callIdOf('recent')).toBeDefined();
    expect(o.parkedEntries().map((p) => [p.key, p.error.startsWith('register answer lost (the daemon stopped while it was on the wire)')])).toEqual([['old', true]]);
  });
});
