import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRouter } from '../../src/http/router.js';
import { startHttpServer, type RunningHttpServer } from '../../src/http/server.js';
import { silentLogger } from '../support/logger.js';
import { requireTool } from '../support/tools.js';
import { NUMBERS, startCrmHarness, TOKEN, type CrmHarness } from './harness.js';

/**
 * scripts/b24-route.agi run as Asterisk runs it: AGI environment on stdin, commands on stdout, against the real
 * HTTP server serving the CRM routes.
 */

const SCRIPT = fileURLToPath(new URL('../../scripts/b24-route.agi', import.meta.url));

let h: CrmHarness | undefined;
let server: RunningHttpServer | undefined;
afterEach(async () => {
  await server?.close(100);
  await h?.close();
  server = h = undefined;
});

async function serve(crm: unknown = {}): Promise<string> {
  h = await startCrmHarness({ crm });
  server = await startHttpServer({ host: '127.0.0.1', port: 0, route: createRouter(h.crm.routes), logger: silentLogger });
  return `http://127.0.0.1:${server.port}`;
}

/** Runs the script; answers every AGI command with success; returns the commands it sent. */
function agi(args: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [SCRIPT, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      // Each command waits for Asterisk's answer.
      for (let i = 0; i < chunk.toString('utf8').split('\n').length - 1; i++) child.stdin.write('200 result=1\n');
    });
    child.on('error', reject);
    child.on('close', () => resolve(out.split('\n').filter(Boolean)));
    child.stdin.write('agi_request: b24-route.agi\nagi_channel: PJSIP/trunk-00000001\nagi_callerid: 79990001111\n\n');
  });
}

describe('scripts/b24-route.agi', () => {
  beforeAll(() => requireTool('python3'));

  it("sets B24_ROUTE to the manager's extension and B24_RING to the ring time", async () => {
    const url = await serve({ route: { ringSeconds: 25 } });
    expect(await agi([NUMBERS.olga, url])).toEqual(['SET VARIABLE B24_ROUTE "101"', 'SET VARIABLE B24_RING "25"']);
  });

  it('sets none for an unknown number and blocked for a blacklisted one', async () => {
    const url = await serve({ blacklist: { prefixes: ['+7999777'] } });
    expect(await agi([NUMBERS.unknown, url])).toEqual(['SET VARIABLE B24_ROUTE "none"']);
    expect(await agi([NUMBERS.blacklisted, url])).toEqual(['SET VARIABLE B24_ROUTE "blocked"']);
  });

  it('sends the token, and treats a refusal as no route', async () => {
    const url = await serve({ lookupToken: TOKEN });
    expect(await agi([NUMBERS.olga, url, TOKEN])).toEqual(['SET VARIABLE B24_ROUTE "101"', 'SET VARIABLE B24_RING "20"']);
    expect(await agi([NUMBERS.olga, url, 'wrong-token'])).toEqual(['SET VARIABLE B24_ROUTE "none"']);
  });

  it('sets none without asking for an anonymous caller, and when the bridge is not there', async () => {
    const url = await serve();
    expect(await agi(['anonymous', url])).toEqual(['SET VARIABLE B24_ROUTE "none"']);
    expect(h!.portal.requests).toHaveLength(0);
    await server!.close(100);
    server = undefined;
    expect(await agi([NUMBERS.olga, url])).toEqual(['SET VARIABLE B24_ROUTE "none"']);
  });
});
