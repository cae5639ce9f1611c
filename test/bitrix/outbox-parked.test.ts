import { describe, expect, it } from 'vitest';
import { MemoryOutboxStore } from '../../src/bitrix/outbox-entry.js';
import { ATTACH, contractError, fakeClient, FINISH, makeOutbox, ok, REGISTER, SHOW } from './outbox-fakes.js';

/** A portal that rejects every register while `reject.on`, and accepts everything else. */
function registerRejecting() {
  const reject = { on: true };
  const fake = fakeClient((cmds) => {
    if (!reject.on) return ok(cmds);
    const out = ok(cmds);
    for (const c of cmds.filter((x) => x.method === REGISTER)) {
      delete out.results[c.key];
      out.errors[c.key] = contractError(c.method, 'Unknown TYPE');
    }
    return out;
  });
  return { ...fake, reject };
}

describe('commands behind a parked register', () => {
  it('are parked with it when they arrive later, so nothing waits forever and the outbox drains', async () => {
    const { client, batches } = registerRejecting();
    const attached: string[] = [];
    const o = makeOutbox(client, { attach: async (_e, callId) => void attached.push(callId) });
    o.enqueue('L1', 'register', REGISTER, { PHONE_NUMBER: '5551001' }, false);
    expect(await o.drain(1000)).toBe(true);
    o.enqueue('L1', 'show', SHOW, { USER_ID: [11] });
    o.enqueue('L1', 'finish', FINISH, { USER_ID: 11 });
    o.enqueue('L1', 'attach', ATTACH, { path: '/r.wav' });
    expect(await o.drain(200)).toBe(true);
    expect(o.depth).toBe(0);
    expect(batches.flat().map((c) => c.method)).toEqual([REGISTER]);
    const parked = o.parkedEntries();
    expect(parked.map((p) => [p.kind, p.dependsOn])).toEqual([
      ['register', undefined],
      ['show', parked[0]!.seq],
      ['finish', parked[0]!.seq],
      ['attach', parked[0]!.seq],
    ]);
    expect(parked[1]!.error).toBe(`register failed (seq ${parked[0]!.seq}), parked with it: CONTRACT: Unknown TYPE`);
  });

  it('come back with the register when it is retried, and go out after it, in order', async () => {
    const { client, batches, reject } = registerRejecting();
    const attached: string[] = [];
    const o = makeOutbox(client, { attach: async (_e, callId) => void attached.push(callId) });
    o.enqueue('L1', 'register', REGISTER, {}, false);
    await o.drain(1000);
    o.enqueue('L1', 'show', SHOW, { USER_ID: [11] });
    o.enqueue('L1', 'finish', FINISH, { USER_ID: 11 });
    o.enqueue('L1', 'attach', ATTACH, { path: '/r.wav' });
    const [register] = o.parkedEntries();
    reject.on = false;
    expect(o.retryParked(register!.seq)).toBe(true);
    expect(await o.drain(1000)).toBe(true);
    expect(o.parkedEntries()).toEqual([]);
    expect(batches.slice(1).flat().map((c) => c.method)).toEqual([REGISTER, SHOW, FINISH]);
    expect(attached).toHaveLength(1);
    // The parked commands are not merged or asked for again by seq: they are gone from the parked list.
    expect(o.retryParked(register!.seq + 1)).toBe(false);
  });

  it('bring their register back when one of them is retried alone', async () => {
    const { client, batches, reject } = registerRejecting();
    const o = makeOutbox(client);
    o.enqueue('L1', 'register', REGISTER, {}, false);
    await o.drain(1000);
    o.enqueue('L1', 'finish', FINISH, { USER_ID: 11 });
    const finish = o.parkedEntries().find((p) => p.kind === 'finish')!;
    reject.on = false;
    expect(o.retryParked(finish.seq)).toBe(true);
    expect(await o.drain(1000)).toBe(true);
    expect(batches.slice(1).flat().map((c) => c.method)).toEqual([REGISTER, FINISH]);
    expect(o.parkedEntries()).toEqual([]);
  });

  it('are parked with it after a restart too', async () => {
    const { client } = registerRejecting();
    const store = new MemoryOutboxStore();
    const first = makeOutbox(client, {}, store);
    first.enqueue('L1', 'register', REGISTER, {}, false);
    await first.drain(1000);
    first.stop();
    const second = makeOutbox(client, {}, store);
    second.enqueue('L1', 'finish', FINISH, { USER_ID: 11 });
    expect(await second.drain(200)).toBe(true);
    expect(second.parkedEntries().map((p) => p.kind)).toEqual(['register', 'finish']);
  });

  it('leave other calls alone', async () => {
    const { client, batches } = registerRejecting();
    const o = makeOutbox(client);
    o.enqueue('L1', 'register', REGISTER, {}, false);
    o.bindCallId('L2', 'externalCall.b');
    await o.drain(1000);
    o.enqueue('L2', 'finish', FINISH, { USER_ID: 12 });
    expect(await o.drain(1000)).toBe(true);
    expect(batches.at(-1)!.map((c) => [c.method, c.params['CALL_ID']])).toEqual([[FINISH, 'externalCall.b']]);
    expect(o.parkedEntries().map((p) => p.key)).toEqual(['L1']);
  });
});

describe('commands for a call already finished', () => {
  it('are dropped, not queued forever, once the call is finished and its CALL_ID forgotten', async () => {
    const { client, batches } = fakeClient(ok);
    const o = makeOutbox(client, { attach: async () => undefined });
    o.enqueue('L1', 'register', REGISTER, {}, false);
    o.enqueue('L1', 'finish', FINISH, { USER_ID: 11 });
    expect(await o.drain(1000)).toBe(true);
    expect(o.callIdOf('L1')).toBeUndefined();
    expect(o.enqueue('L1', 'hide', 'telephony.externalcall.hide', { USER_ID: [12] })).toBe(false);
    expect(o.enqueue('L1', 'show', SHOW, { USER_ID: [12] })).toBe(false);
    expect(o.enqueue('L1', 'attach', ATTACH, { path: '/late.wav' })).toBe(false);
    expect(o.depth).toBe(0);
    expect(await o.drain(100)).toBe(true);
    expect(o.parkedEntries()).toEqual([]);
    expect(batches.flat().map((c) => c.method)).toEqual([REGISTER, FINISH]);
  });

  it('still wait for a register that is queued before them', async () => {
    const { client, batches } = fakeClient(ok);
    const o = makeOutbox(client);
    o.enqueue('L1', 'register', REGISTER, {}, false);
    o.enqueue('L1', 'finish', FINISH, { USER_ID: 11 });
    expect(o.enqueue('L1', 'hide', 'telephony.externalcall.hide', { USER_ID: [12] })).toBe(true);
    expect(await o.drain(1000)).toBe(true);
    expect(batches.flat().map((c) => c.method)).toEqual([REGISTER, FINISH, 'telephony.externalcall.hide']);
  });
});
