import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startAmiSimulator, type AmiSimulator } from '../../src/sim/ami-simulator.js';
import { startBitrixEmulator, type BitrixEmulator } from '../../src/sim/bitrix-emulator.js';
import { startDaemon, waitFor, type DaemonProcess } from '../support/daemon-process.js';

/** What the daemon tells systemd at start, received on a real NOTIFY_SOCKET: READY waits for the AMI login. */

const hasTool = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const possible = process.platform === 'linux' && hasTool('python3', ['--version']) && hasTool('systemd-notify', ['--version']);

const LISTENER = `
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps("listening"), flush=True)
while True:
    print(json.dumps(s.recv(4096).decode()), flush=True)
`;

let listener: ChildProcess | undefined;
let dir: string | undefined;
let pbx: AmiSimulator | undefined;
let portal: BitrixEmulator | undefined;
let daemon: DaemonProcess | undefined;

afterEach(async () => {
  await daemon?.stop('SIGKILL');
  listener?.kill();
  await pbx?.close();
  await portal?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  listener = pbx = portal = daemon = dir = undefined;
});

/** A stand-in for systemd's notify socket: every datagram, with the time it came. */
async function notifySocket(): Promise<{ socket: string; received: Array<{ at: number; text: string }> }> {
  dir = mkdtempSync(join(tmpdir(), 'b24bridge-ready-'));
  const socket = join(dir, 'notify.sock');
  const received: Array<{ at: number; text: string }> = [];
  const proc = spawn('python3', ['-c', LISTENER, socket], { stdio: ['ignore', 'pipe', 'inherit'] });
  listener = proc;
  let buffered = '';
  await new Promise<void>((resolve) =>
    proc.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const text = JSON.parse(line) as string;
        if (text === 'listening') resolve();
        else received.push({ at: Date.now(), text });
      }
    }),
  );
  return { socket, received };
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function start(amiPort: number, socket: string, startupWaitMs: number): DaemonProcess {
  return startDaemon(
    {
      asterisk: { ami: { host: '127.0.0.1', port: amiPort, username: 'b24bridge', secret: 's', startupWaitMs, reconnect: { initialDelayMs: 100, maxDelayMs: 200 } } },
      bitrix: { webhookUrl: portal!.webhookUrl, defaultUserId: 1 },
      users: { refreshIntervalSec: 0 },
      http: { host: '127.0.0.1', port: 0 },
      recordings: { enabled: false },
    },
    { NOTIFY_SOCKET: socket },
  );
}

const readyOf = (received: Array<{ at: number; text: string }>) => received.find((m) => m.text.split('\n').includes('READY=1'));

describe.skipIf(!possible)('READY at start', () => {
  it('comes once the AMI login succeeds, even when Asterisk is still booting when the daemon starts', async () => {
    const { socket, received } = await notifySocket();
    portal = await startBitrixEmulator();
    const port = await freePort();
    daemon = start(port, socket, 20_000);
    await new Promise((r) => setTimeout(r, 1500));
    expect(readyOf(received)).toBeUndefined();
    const pbxUpAt = Date.now();
    pbx = await startAmiSimulator({ port, username: 'b24bridge', secret: 's' });
    const ready = await waitFor(() => readyOf(received), 10_000, 'READY=1');
    expect(ready.at).toBeGreaterThanOrEqual(pbxUpAt);
    expect(ready.text).toContain('STATUS=AMI connected');
  }, 30_000);

  it('comes after the bounded wait with AMI down in its status when no PBX answers', async () => {
    const { socket, received } = await notifySocket();
    portal = await startBitrixEmulator();
    const startedAt = Date.now();
    daemon = start(await freePort(), socket, 1000);
    const ready = await waitFor(() => readyOf(received), 10_000, 'READY=1');
    expect(ready.at - startedAt).toBeGreaterThanOrEqual(1000);
    expect(ready.text).toContain('STATUS=AMI down');
    expect(daemon.alive()).toBe(true);
  }, 30_000);
});
