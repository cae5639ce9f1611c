import { describe, expect, it } from 'vitest';
import type { BitrixEmulator } from '../../src/sim/bitrix-emulator.js';
import { runCli } from '../support/daemon-process.js';
import { AMI_SECRET, processRigPerTest } from '../support/process-rig.js';
import { traceBytes } from '../support/traces.js';
import { waitFor } from '../support/wait.js';

/**
 * The built daemon as a real process, an AMI simulator serving real traces over TCP, and the strict Bitrix24
 * emulator: the emulator must see exactly the right commands, and bad input must not hurt.
 */

const { start, pbx, portal, daemon } = processRigPerTest();

async function setUp(): Promise<void> {
  const rig = await start();
  await rig.start(
    // Secrets come from the environment: they must reach neither the config file nor a log line.
    { asterisk: { ami: { secret: undefined, reconnect: { initialDelayMs: 100, maxDelayMs: 500 } } }, bitrix: { webhookUrl: undefined, applicationToken: 'tok' }, users: { extensions: {} } },
    { B24BRIDGE_AMI_SECRET: AMI_SECRET, B24BRIDGE_WEBHOOK_URL: rig.portal.webhookUrl },
  );
  await waitFor(() => pbx().received.filter((a) => a['Action'] === 'Filter').length === 2, 'both AMI filters', 10_000);
  await waitFor(() => portal().commands.some((c) => c.method === 'user.get'), 'the user map load', 10_000);
}

function mergeShows(seen: Array<{ method: string; params: Record<string, unknown> }>) {
  const out: Array<{ method: string; users: string[] }> = [];
  for (const c of seen) {
    const users = ([] as string[]).concat(c.params['USER_ID'] as string | string[]);
    const last = out.at(-1);
    if (c.method === 'show' && last?.method === 'show') last.users.push(...users);
    else out.push({ method: c.method, users });
  }
  return out;
}

const telephony = (p: BitrixEmulator) =>
  p.commands
    .filter((c) => c.method.startsWith('telephony.'))
    .map((c) => ({ method: c.method.replace('telephony.externalcall.', ''), ok: c.ok, params: c.params }));

describe('the daemon as a process', () => {
  it('turns the support_ringall_answer trace into one register, cards for three users, one hide and one finish', async () => {
    await setUp();
    const login = pbx().received.find((a) => a['Action'] === 'Login')!;
    expect(login['Events']).toBe('on');
    expect(pbx().received.filter((a) => a['Action'] === 'Filter').map((a) => a['Filter'])).toEqual([
      expect.stringMatching(/^Event: \(FullyBooted\|.*AgentRingNoAnswer.*\)\[\^A-Za-z\]$/),
      'Variable: (MIXMONITOR_FILENAME)[^A-Za-z_]',
    ]);
    await pbx().replay(traceBytes('support_ringall_answer'), { speed: 5 });
    await waitFor(() => portal().commands.some((c) => c.method === 'telephony.externalcall.finish'), 'finish', 10_000);
    const seen = telephony(portal());
    expect(seen.every((c) => c.ok)).toBe(true);
    // The members ring within 2 ms; the outbox gathers them into one show unless the machine is so loaded
    // that the events straddle its 5 ms linger, so neighbouring shows are read together.
    const merged = mergeShows(seen);
    expect(merged.map((c) => [c.method, c.users])).toEqual([
      ['register', ['11']],
      ['show', ['11', '12', '13']],
      ['hide', ['11', '13']],
      ['finish', ['12']],
    ]);
    expect(seen[0]!.params).toMatchObject({ USER_ID: '11', PHONE_NUMBER: '5551001', TYPE: '2', SHOW: '0', CRM_CREATE: '1', EXTERNAL_CALL_ID: '1795263470.0' });
    expect(seen[0]!.params['CALL_START_DATE']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
    expect(seen.at(-1)!.params).toMatchObject({ USER_ID: '12', DURATION: '5', STATUS_CODE: '200' });
    // One CALL_ID for everything after the register.
    const callId = (portal().commands.find((c) => c.method.endsWith('register'))!.result as { CALL_ID: string }).CALL_ID;
    expect(new Set(seen.slice(1).map((c) => c.params['CALL_ID']))).toEqual(new Set([callId]));
    expect(portal().statistics).toHaveLength(1);
    // At most four HTTP requests for the call itself (three when the shows share the register's batch).
    expect(portal().requests.filter((r) => r.restMethod === 'batch').length).toBeLessThanOrEqual(4);
    expect(daemon().output()).not.toContain(AMI_SECRET);
    expect(daemon().output()).not.toContain(portal().webhookUrl.split('/rest/')[1]!.split('/')[1]!);
  });

  it('lives through broken frames, unknown events, strangers\' channels and a portal that fails for a while', async () => {
    await setUp();
    pbx().sendRaw('this is not an AMI frame\r\n\r\n');
    pbx().sendRaw(`Event: Bogus\r\n${'X: y\r\n'.repeat(600)}\r\n`);
    pbx().emitEvent({ Event: 'SomethingNew', Foo: 'bar' });
    pbx().emitEvent({ Event: 'Hangup', Channel: 'PJSIP/999-00000001', Uniqueid: 'x.1', Linkedid: 'x.1', Context: 'from-internal', Cause: '16' });
    portal().faults.failNext(2, { status: 503, error: 'QUERY_LIMIT_EXCEEDED', error_description: 'Too many requests' });
    await pbx().replay(traceBytes('caller_abandon'), { speed: 10 });
    await waitFor(() => portal().commands.some((c) => c.method === 'telephony.externalcall.finish'), 'finish after retries', 20_000);
    const seen = telephony(portal());
    expect(seen.filter((c) => c.method === 'register')).toHaveLength(1);
    expect(seen.filter((c) => c.method === 'finish')).toEqual([expect.objectContaining({ ok: true, params: expect.objectContaining({ USER_ID: '1', STATUS_CODE: '304' }) })]);
    // Whatever the retries let through, every card shown was hidden again.
    const shown = seen.filter((c) => c.method === 'show').flatMap((c) => c.params['USER_ID'] as string[]);
    const hidden = seen.filter((c) => c.method === 'hide').flatMap((c) => c.params['USER_ID'] as string[]);
    expect(hidden.sort()).toEqual(shown.sort());
    expect(daemon().alive()).toBe(true);
    expect(daemon().output()).toMatch(/AMI framing error, message skipped/);
  });

  it('parks a command the portal rejects (4xx) and still finishes the call', async () => {
    await setUp();
    // The default user (1) does not exist on this portal: the finish of a missed call is a contract error.
    const owner = portal().state.users.get(1)!;
    portal().state.users.delete(1);
    await pbx().replay(traceBytes('no_members_all_paused'), { speed: 20 });
    await waitFor(() => /command parked/.test(daemon().output()), 'a parked command', 15_000);
    const seen = telephony(portal());
    // The finish waits for the register's CALL_ID (it never shares its request): the register fails and is parked,
    // and the finish is parked with it, unsent.
    expect(seen.map((c) => [c.method, c.ok])).toEqual([['register', false]]);
    // The recording waits behind them and has no CALL_ID either: it is parked too.
    expect(daemon().output().match(/command parked/g)).toHaveLength(3);
    expect(daemon().output()).toMatch(/User is not found or is not active/);
    expect(daemon().alive()).toBe(true);

    // The admin lists them, fixes the portal, and asks for a retry: both go out, in order, once.
    const env = { B24BRIDGE_AMI_SECRET: AMI_SECRET, B24BRIDGE_WEBHOOK_URL: portal().webhookUrl };
    const listed = await runCli(['parked', '--config', daemon().configFile], env);
    expect(listed.code).toBe(0);
    expect(listed.output).toMatch(/telephony\.externalcall\.register\tCONTRACT: User is not found or is not active/);
    expect(listed.output).toMatch(/telephony\.externalcall\.finish\tregister failed/);
    portal().state.users.set(1, owner);
    expect((await runCli(['parked', '--config', daemon().configFile, '--retry', '999'], env)).code).toBe(1);
    expect((await runCli(['parked', '--config', daemon().configFile, '--retry-all'], env)).code).toBe(0);
    await waitFor(() => portal().commands.some((c) => c.method.endsWith('finish') && c.ok), 'the retried finish', 15_000);
    expect(telephony(portal()).map((c) => [c.method, c.ok])).toEqual([
      ['register', false],
      ['register', true],
      ['finish', true],
    ]);
    expect((await runCli(['parked', '--config', daemon().configFile], env)).output).toMatch(/no parked commands/);
  });

  it('stops in order on SIGTERM with exit code 0', async () => {
    await setUp();
    expect(await daemon().stop('SIGTERM')).toBe(0);
    expect(daemon().output()).toMatch(/stopped/);
  });
});
