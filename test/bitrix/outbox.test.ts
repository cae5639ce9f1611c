import { describe, expect, it } from 'vitest';
import { BatchRef } from '../../src/bitrix/encode.js';
import { BitrixError } from '../../src/bitrix/errors.js';
import { MemoryOutboxStore, type OutboxStore } from '../../src/bitrix/outbox-entry.js';
import { waitFor } from '../support/wait.js';
import { contractError, fakeClient, makeOutbox, ok } from './outbox-fakes.js';

const rateLimited = (method: string) =>
  new BitrixError({ kind: 'retryable', errorCode: 'RATE_LIMITED', code: 'QUERY_LIMIT_EXCEEDED', description: 'Too many requests', method, httpStatus: 503 });

const outbox = makeOutbox;

describe('the outbox', () => {
  it('sends a register and the first shows in one batch, the shows referring to the register result', async () => {
    const { client, batches } = fakeClient(ok);
    const o = outbox(client);
    o.enqueue('L1', 'register', 'telephony.externalcall.register', { PHONE_NUMBER: '5551001' }, false);
    o.enqueue('L1', 'show', 'telephony.externalcall.show', { USER_ID: [11] });
    o.enqueue('L1', 'show', 'telephony.externalcall.show', { USER_ID: [12] });
    o.enqueue('L1', 'show', 'telephony.externalcall.show', { USER_ID: [13] });
    expect(await o.drain(1000)).toBe(true);
    expect(batches).toHaveLength(1);
    const [reg, show] = batches[0]!;
    expect(reg!.method).toBe('telephony.externalcall.register');
    expect(show!.params['USER_ID']).toEqual([11, 12, 13]);
    expect(show!.params['CALL_ID']).toBeInstanceOf(BatchRef);
    expect(o.callIdOf('L1')).toBe(`externalCall.${reg!.key}`);
  });

  it('sends the hides of the other members and the finish of a call together, in one request', async () => {
    const { client, batches } = fakeClient(ok);
    const o = outbox(client);
    o.enqueue('L1', 'register', 'telephony.externalcall.register', { PHONE_NUMBER: '5551001' }, false);
    o.enqueue('L1', 'show', 'telephony.externalcall.show', { USER_ID: [11, 12, 13] });
    expect(await o.drain(1000)).toBe(true);
    o.enqueue('L1', 'hide', 'telephony.externalcall.hide', { USER_ID: [11] });
    o.enqueue('L1', 'hide', 'telephony.externalcall.hide', { USER_ID: [13] });
    o.enqueue('L1', 'finish', 'telephony.externalcall.finish', { USER_ID: 12, DURATION: 5, STATUS_CODE: '200' });
    expect(await o.drain(1000)).toBe(true);
    expect(batches).toHaveLength(2);
    expect(batches[1]!.map((c) => [c.method.split('.').pop(), c.params['USER_ID'], c.params['CALL_ID']])).toEqual([
      ['hide', [11, 13], `externalCall.${batches[0]![0]!.key}`],
      ['finish', 12, `externalCall.${batches[0]![0]!.key}`],
    ]);
  });

  it('rewrites its whole memory over the store on request, a batch on the wire marked uncertain', async () => {
    const waiting: Array<() => void> = [];
    const { client } = fakeClient(async (cmds) => {
      await new Promise<void>((r) => waiting.push(r));
      return ok(cmds);
    });
    const store: OutboxStore = new MemoryOutboxStore();
    const rewrites: Array<Parameters<NonNullable<OutboxStore['replaceAll']>>[0]> = [];
    store.replaceAll = (state) => void rewrites.push(state);
    const o = makeOutbox(client, {}, store);
    o.bindCallId('L1', 'externalCall.1');
    o.enqueue('L1', 'finish', 'telephony.externalcall.finish', { USER_ID: 11 });
    o.enqueue('L2', 'register', 'telephony.externalcall.register', { PHONE_NUMBER: '5551002' }, false);
    // Both on the wire, not answered yet: then the store recovers and the outbox rewrites it.
    await waitFor(() => waiting.length >= 1, 'the batch on the wire');
    o.persistAll();
    for (const r of waiting.splice(0)) r();
    expect(await o.drain(1000)).toBe(true);
    const [state] = rewrites;
    expect(state!.callIds).toEqual([['L1', 'externalCall.1']]);
    expect(state!.entries.map((e) => [e.key, e.kind, e.uncertain === true])).toEqual([
      ['L1', 'finish', true],
      ['L2', 'register', true],
    ]);
    expect(state!.parked).toEqual([]);
  });

  it('sends nothing for a card shown and hidden before either went out', async () => {
    const { client, batches } = fakeClient(ok);
    const o = outbox(client);
    o.bindCallId('L1', 'externalCall.x');
    o.enqueue('L1', 'show', 'telephony.externalcall.show', { USER_ID: [11, 12] });
    o.enqueue('L1', 'hide', 'telephony.externalcall.hide', { USER_ID: [11] });
    o.enqueue('L1', 'hide', 'telephony.externalcall.hide', { USER_ID: [12] });
    o.enqueue('L1', 'finish', 'telephony.externalcall.finish', { USER_ID: 1 });
    await o.drain(1000);
    expect(batches.flat().map((c) => c.method)).toEqual(['telephony.externalcall.finish']);
    expect(batches[0]![0]!.params['CALL_ID']).toBe('externalCall.x');
  });

  it('cancels a pending show even when other cards were queued after it', async () => {
    const { client, batches } = fakeClient(ok);
    const o = outbox(client);
    o.bindCallId('L1', 'externalCall.x');
    o.enqueue('L1', 'show', 'telephony.externalcall.show', { USER_ID: [11] });
    o.enqueue('L1', 'hide', 'telephony.externalcall.hide', { USER_ID: [12] });
    o.enqueue('L1', 'show', 'telephony.externalcall.show', { USER_ID: [13] });
    o.enqueue('L1', 'hide', 'telephony.externalcall.hide', { USER_ID: [11, 13] });
    await o.drain(1000);
    expect(batches.flat().map((c) => [c.method.split('.').pop(), c.params['USER_ID']])).toEqual([['hide', [12]]]);
  });

  it('retries a whole batch after the portal refused it and delivers each command once, in order', async () => {
    const { client, batches } = fakeClient((cmds, n) => {
      if (n === 1) throw rateLimited('batch');
      return ok(cmds);
    });
    const o = outbox(client);
    o.enqueue('L1', 'register', 'telephony.externalcall.register', {}, false);
    o.enqueue('L1', 'show', 'telephony.externalcall.show', { USER_ID: [11] });
    o.enqueue('L1', 'finish', 'telephony.externalcall.finish', { USER_ID: 1 });
    expect(await o.drain(2000)).toBe(true);
    const methods = batches.map((b) => b.map((c) => c.method.split('.').pop()));
    // The finish waits for the register's answer: it never shares the register's request.
    expect(methods).toEqual([['register', 'show'], ['register', 'show'], ['finish']]);
    expect(batches[2]![0]!.params['CALL_ID']).toBe(`externalCall.${batches[1]![0]!.key}`);
    expect(o.parkedEntries()).toEqual([]);
  });

  it('parks a command the portal rejects and goes on with the others', async () => {
    const { client, batches } = fakeClient((cmds) => {
      const out = ok(cmds);
      const bad = cmds.find((c) => c.params['USER_ID'] === 999)!;
      delete out.results[bad.key];
      out.errors[bad.key] = contractError(bad.method, 'User is not found or is not active');
      return out;
    });
    const o = outbox(client);
    o.bindCallId('A', 'externalCall.a');
    o.bindCallId('B', 'externalCall.b');
    o.enqueue('A', 'finish', 'telephony.externalcall.finish', { USER_ID: 999 });
    o.enqueue('B', 'finish', 'telephony.externalcall.finish', { USER_ID: 5 });
    await o.drain(1000);
    expect(batches).toHaveLength(1);
    expect(o.parkedEntries()).toEqual([expect.objectContaining({ key: 'A', error: 'CONTRACT: User is not found or is not active' })]);
    expect(o.depth).toBe(0);
  });

  it('keeps the commands that depend on a register that failed retryably, and parks them when it failed for good', async () => {
    let fatal = false;
    const { client, batches } = fakeClient((cmds, n) => {
      const reg = cmds.find((c) => c.method.endsWith('register'));
      if (!reg || (n > 1 && !fatal)) return ok(cmds);
      // The register fails; the portal then runs the show with an empty CALL_ID, which fails too.
      return {
        results: {},
        errors: Object.fromEntries(cmds.map((c) => [c.key, c === reg ? (fatal ? contractError(c.method, 'Unknown TYPE') : rateLimited(c.method)) : contractError(c.method, 'Call is not found')])),
      };
    });
    const o = outbox(client);
    o.enqueue('L1', 'register', 'telephony.externalcall.register', {}, false);
    o.enqueue('L1', 'show', 'telephony.externalcall.show', { USER_ID: [11] });
    await o.drain(2000);
    expect(batches).toHaveLength(2);
    expect(batches[1]!.map((c) => c.method)).toEqual(['telephony.externalcall.register', 'telephony.externalcall.show']);
    expect(o.parkedEntries()).toEqual([]);

    fatal = true;
    o.enqueue('L2', 'register', 'telephony.externalcall.register', {}, false);
    o.enqueue('L2', 'show', 'telephony.externalcall.show', { USER_ID: [11] });
    await o.drain(2000);
    expect(o.parkedEntries().map((p) => [p.key, p.kind])).toEqual([
      ['L2', 'register'],
      ['L2', 'show'],
    ]);
  });

  it('merges cards into a command the portal refused (503) but never into one that may have landed', async () => {
    let n = 0;
    const { client, batches } = fakeClient((cmds) => {
      n++;
      if (n === 1) throw rateLimited('batch');
      if (n === 2) throw new BitrixError({ kind: 'retryable', errorCode: 'TIMEOUT', code: 'ETIMEDOUT', description: 'timeout', method: 'batch' });
      return ok(cmds);
    });
    // Each failure pauses the outbox long enough for the test to add the next card before the retry.
    const o = outbox(client, { initialRetryDelayMs: 400, maxRetryDelayMs: 400 });
    o.bindCallId('L1', 'externalCall.x');
    o.enqueue('L1', 'show', 'telephony.externalcall.show', { USER_ID: [11] });
    await waitFor(() => batches.length === 1, 'the show sent once and refused by the gateway: certainly not shown');
    o.enqueue('L1', 'hide', 'telephony.externalcall.hide', { USER_ID: [11] });
    o.enqueue('L2', 'show', 'telephony.externalcall.show', { USER_ID: [21] });
    o.bindCallId('L2', 'externalCall.y');
    await waitFor(() => batches.length === 2, "L2's show sent and timed out: it may have been shown");
    o.enqueue('L2', 'hide', 'telephony.externalcall.hide', { USER_ID: [21] });
    await o.drain(2000);
    const sent = batches.slice(2).flat().map((c) => [c.method.split('.').pop(), c.params['USER_ID']]);
    expect(sent).toEqual([
      ['show', [21]],
      ['hide', [21]],
    ]);
  });

  it('counts a finish as delivered when a retry learns the call was already finished', async () => {
    const { client } = fakeClient((cmds, n) => {
      if (n === 1) throw new BitrixError({ kind: 'retryable', errorCode: 'TIMEOUT', code: 'ETIMEDOUT', description: 'timeout', method: 'batch' });
      return { results: {}, errors: { [cmds[0]!.key]: contractError(cmds[0]!.method, 'Call is not found (call should be registered prior to finishing') } };
    });
    const delivered: string[] = [];
    const o = outbox(client, { hooks: { onDelivered: (e) => delivered.push(e.kind) } });
    o.bindCallId('L1', 'externalCall.x');
    o.enqueue('L1', 'finish', 'telephony.externalcall.finish', { USER_ID: 1 });
    await o.drain(2000);
    expect(delivered).toEqual(['finish']);
    expect(o.parkedEntries()).toEqual([]);
  });

  it('never has two batches of the same call in flight, so its commands stay in order', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { client, batches } = fakeClient(async (cmds, n) => {
      if (n === 1) await gate;
      return ok(cmds);
    });
    const o = outbox(client, { concurrency: 4 });
    o.bindCallId('L1', 'externalCall.x');
    o.enqueue('L1', 'show', 'telephony.externalcall.show', { USER_ID: [11] });
    await new Promise((r) => setTimeout(r, 20));
    o.enqueue('L1', 'hide', 'telephony.externalcall.hide', { USER_ID: [11] });
    o.enqueue('L2', 'register', 'telephony.externalcall.register', {}, false);
    await new Promise((r) => setTimeout(r, 20));
    expect(batches.map((b) => b.map((c) => c.method))).toEqual([['telephony.externalcall.show'], ['telephony.externalcall.register']]);
    release();
    await o.drain(1000);
    expect(batches[2]!.map((c) => c.method)).toEqual(['telephony.externalcall.hide']);
  });

  it('waits for the rate limiter before sending, gathering what arrives meanwhile into one batch', async () => {
    let delay = 60;
    const { client, batches } = fakeClient(ok);
    const o = outbox(client, { limiterDelay: () => delay });
    for (let i = 0; i < 10; i++) {
      o.bindCallId(`L${i}`, `externalCall.${i}`);
      o.enqueue(`L${i}`, 'show', 'telephony.externalcall.show', { USER_ID: [i + 1] });
    }
    setTimeout(() => (delay = 0), 30);
    await o.drain(2000);
    expect(batches).toHaveLength(1);
    expect(batches[0]).toHaveLength(10);
  });

  it('forgets a call once its finish and recording are delivered, so it holds no memory for old calls', async () => {
    const { client } = fakeClient(ok);
    const attach = async () => undefined;
    const o = outbox(client, { attach });
    for (let i = 0; i < 20; i++) {
      o.enqueue(`L${i}`, 'register', 'telephony.externalcall.register', {}, false);
      o.enqueue(`L${i}`, 'finish', 'telephony.externalcall.finish', { USER_ID: 1 });
      o.enqueue(`L${i}`, 'attach', 'telephony.externalCall.attachRecord', { path: '/x.wav' });
    }
    o.enqueue('live', 'register', 'telephony.externalcall.register', {}, false);
    await o.drain(2000);
    // Only the call still in progress keeps its CALL_ID.
    expect(o.trackedKeys).toBe(1);
    expect(o.callIdOf('live')).toBeDefined();
  });

  it('puts a parked command back on request', async () => {
    let reject = true;
    const { client } = fakeClient((cmds) => (reject ? { results: {}, errors: { [cmds[0]!.key]: contractError(cmds[0]!.method, 'nope') } } : ok(cmds)));
    const o = outbox(client);
    o.bindCallId('L1', 'externalCall.x');
    o.enqueue('L1', 'finish', 'telephony.externalcall.finish', { USER_ID: 1 });
    await o.drain(1000);
    const [parked] = o.parkedEntries();
    reject = false;
    expect(o.retryParked(parked!.seq)).toBe(true);
    await o.drain(1000);
    expect(o.parkedEntries()).toEqual([]);
    expect(o.depth).toBe(0);
  });
});
