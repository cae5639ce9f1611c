import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startBridge, type Bridge } from '../../src/daemon/app.js';
import { runParked } from '../../src/daemon/parked.js';
import { DEMO_USERS } from '../../src/demo/scenarios.js';
import { createLogger } from '../../src/obs/logger.js';
import { startAmiSimulator, type AmiSimulator } from '../../src/sim/ami-simulator.js';
import { startBitrixEmulator, type BitrixEmulator } from '../../src/sim/bitrix-emulator.js';
import { tempDir } from '../support/tmp.js';
import { waitFor } from '../support/wait.js';
import { traceBytes, TRACE_USERS } from '../support/traces.js';
import { contractError, fakeClient, FINISH, makeOutbox, ok, REGISTER, logSink } from './outbox-fakes.js';
import { BitrixError } from '../../src/bitrix/errors.js';
import { APP_REFUSAL } from '../../src/bitrix/outbox/settle.js';

/** A wrong webhook (401/403/404, a redirect) refuses the whole request: retrying cannot help, an admin must. */

let portal: BitrixEmulator | undefined;
let pbx: AmiSimulator | undefined;
let bridge: Bridge | undefined;

afterEach(async () => {
  await bridge?.stop(1000);
  await pbx?.close();
  await portal?.close();
  bridge = pbx = portal = undefined;
});

const auth = (status: number) => new BitrixError({ kind: 'fatal', errorCode: 'AUTH', code: 'INVALID_CREDENTIALS', description: 'Invalid request credentials', method: 'batch', httpStatus: status });

describe('a whole request refused for good', () => {
  it('parks every command of the batch with the reason and sends them once more only when asked', async () => {
    let refuse = true;
    const { client, batches } = fakeClient((cmds) => {
      if (refuse) throw auth(401);
      return ok(cmds);
    });
    const { lines, logger } = logSink();
    const o = makeOutbox(client, { logger });
    o.enqueue('L1', 'register', REGISTER, { PHONE_NUMBER: '5551001' }, false);
    o.enqueue('L1', 'finish', FINISH, { USER_ID: 11 });
    expect(await o.drain(1000)).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(batches).toHaveLength(1); // not retried by itself
    expect(o.parkedEntries().map((p) => [p.kind, p.error])).toEqual([
      ['register', 'webhook refused the request (AUTH HTTP 401 INVALID_CREDENTIALS): Invalid request credentials; fix bitrix.webhookUrl, then run: parked --retry-all'],
      ['finish', expect.stringMatching(/^register failed \(seq \d+\), parked with it: webhook refused the request \(AUTH HTTP 401/)],
    ]);
    const parkedLines = lines.filter((l) => l.msg === 'outbox: command parked');
    expect(parkedLines.map((l) => l.obj)).toEqual([
      expect.objectContaining({ method: REGISTER, params: { PHONE_NUMBER: '5551001' } }),
      expect.objectContaining({ method: FINISH, params: { USER_ID: 11 } }),
    ]);
    refuse = false;
    for (const p of o.parkedEntries()) o.retryParked(p.seq);
    expect(await o.drain(1000)).toBe(true);
    expect(batches.slice(1).flat().map((c) => c.method)).toEqual([REGISTER, FINISH]);
    expect(o.parkedEntries()).toEqual([]);
  });

  it('in application mode the reason names the portal address and the installation, not a webhook URL', async () => {
    const { client } = fakeClient(() => {
      throw auth(404);
    });
    const o = makeOutbox(client, { refusal: APP_REFUSAL });
    o.enqueue('L1', 'register', REGISTER, { PHONE_NUMBER: '5551001' }, false);
    await o.drain(1000);
    expect(o.parkedEntries().map((p) => p.error)).toEqual([
      'portal refused the request (AUTH HTTP 404 INVALID_CREDENTIALS): Invalid request credentials; check bitrix.app.portalUrl and that the local application is installed (asterisk-b24-bridge auth --config FILE), then run: parked --retry-all',
    ]);
  });

  it('a whole request rejected for its content names no setting to fix', async () => {
    const { client } = fakeClient(() => {
      throw new BitrixError({ kind: 'fatal', errorCode: 'CONTRACT', code: 'ERROR_CORE', description: 'Required fields: USER_ID', method: 'batch', httpStatus: 400 });
    });
    const o = makeOutbox(client);
    o.enqueue('L1', 'register', REGISTER, { PHONE_NUMBER: '5551001' }, false);
    await o.drain(1000);
    expect(o.parkedEntries().map((p) => p.error)).toEqual([
      'the portal refused the request (CONTRACT HTTP 400 ERROR_CORE): Required fields: USER_ID; run: parked --retry-all',
    ]);
  });

  it('parks a single command the portal rejects inside a batch on its own, with the portal error', async () => {
    const { client } = fakeClient((cmds) => ({ results: {}, errors: { [cmds[0]!.key]: contractError(cmds[0]!.method, 'nope') } }));
    const o = makeOutbox(client);
    o.bindCallId('L1', 'externalCall.a');
    o.enqueue('L1', 'finish', FINISH, { USER_ID: 1 });
    await o.drain(1000);
    expect(o.parkedEntries().map((p) => p.error)).toEqual(['CONTRACT: nope']);
  });

  it('in the daemon: a wrong webhook parks the call, health says why, the secret is never logged, and --retry-all delivers it once the webhook is fixed', async () => {
    portal = await startBitrixEmulator({ users: DEMO_USERS });
    pbx = await startAmiSimulator({ username: 'b', secret: 's' });
    const secretCode = portal.webhookUrl.split('/').at(-2)!;
    const wrongUrl = portal.webhookUrl.replace(`/${secretCode}/`, '/wrongcode4711/');
    const stateDir = join(tempDir('b24webhook-'), 'state');
    const configFor = (webhookUrl: string) =>
      parseConfig({
        asterisk: { ami: { host: pbx!.host, port: pbx!.port, username: 'b', secret: 's' } },
        bitrix: { webhookUrl, defaultUserId: 1 },
        users: { extensions: Object.fromEntries(Object.entries(TRACE_USERS)), refreshIntervalSec: 0 },
        http: { host: '127.0.0.1', port: 0 },
        state: { dir: stateDir },
        recordings: { enabled: false },
      });
    let logged = '';
    const sink = new Writable({ write: (chunk, _e, done) => ((logged += String(chunk)), done()) });
    const logger = createLogger({ level: 'debug', format: 'json', destination: sink });
    bridge = await startBridge(configFor(wrongUrl), { logger });
    await pbx.replay(traceBytes('caller_abandon'), { speed: 20 });
    await waitFor(() => bridge!.health().parked > 0 && bridge!.health().outboxDepth === 0 && /call finished/.test(logged), 'the call parked', 15_000);
    expect(bridge.health().lastError).toMatch(/^portal: batch AUTH \(HTTP 401\); parked telephony\.externalcall\.\w+: .*webhook refused the request \(AUTH HTTP 401.*fix bitrix\.webhookUrl, then run: parked --retry-all/);
    expect(logged).toMatch(/"method":"telephony.externalcall.register","params":\{/);
    expect(logged).not.toContain('wrongcode4711');
    expect(logged).not.toContain(secretCode);
    await bridge.stop(1000);
    bridge = undefined;
    expect(portal.commands.filter((c) => c.ok)).toEqual([]);

    const out: string[] = [];
    expect(runParked(configFor(portal.webhookUrl), { retryAll: true }, (l) => out.push(l))).toBe(0);
    bridge = await startBridge(configFor(portal.webhookUrl), { logger: createLogger({ level: 'silent', format: 'json' }) });
    await waitFor(() => portal!.commands.some((c) => c.method === 'telephony.externalcall.finish' && c.ok), 'the finish after --retry-all', 15_000);
    const telephony = portal.commands.filter((c) => c.method.startsWith('telephony.externalcall.'));
    expect(telephony.filter((c) => c.method.endsWith('register')).map((c) => c.ok)).toEqual([true]);
    expect(telephony.filter((c) => c.method.endsWith('finish')).map((c) => c.ok)).toEqual([true]);
    expect(bridge.health().parked).toBe(0);
  }, 30_000);
});
