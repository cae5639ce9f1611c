import { afterEach, describe, expect, it } from 'vitest';
import { startAmiSimulator, type AmiSimulator } from '../../src/sim/ami-simulator.js';
import { startBitrixEmulator, type BitrixEmulator } from '../../src/sim/bitrix-emulator.js';
import { startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { startNotifySocket, type NotifySocket } from '../support/notify-socket.js';
import { freePort } from '../support/ports.js';
import { sleep, waitFor } from '../support/wait.js';

/**
 * What the daemon tells systemd at start, received on a real NOTIFY_SOCKET: READY waits for the AMI login.
 * The PBX comes up after the daemon here, so the set-up is not the process rig's.
 */

let notify: NotifySocket | undefined;
let pbx: AmiSimulator | undefined;
let portal: BitrixEmulator | undefined;
let daemon: DaemonProcess | undefined;

afterEach(async () => {
  await daemon?.stop('SIGKILL');
  notify?.close();
  await pbx?.close();
  await portal?.close();
  notify = pbx = portal = daemon = undefined;
});

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

describe('READY at start', () => {
  it('comes once the AMI login succeeds, even when Asterisk is still booting when the daemon starts', async () => {
    notify = await startNotifySocket();
    const { path, received } = notify;
    portal = await startBitrixEmulator();
    const port = await freePort();
    daemon = start(port, path, 20_000);
    // Nothing listens on the AMI port yet: no READY meanwhile.
    await sleep(1500);
    expect(readyOf(received)).toBeUndefined();
    const pbxUpAt = Date.now();
    pbx = await startAmiSimulator({ port, username: 'b24bridge', secret: 's' });
    const ready = await waitFor(() => readyOf(received), 'READY=1', 10_000);
    expect(ready.at).toBeGreaterThanOrEqual(pbxUpAt);
    expect(ready.text).toContain('STATUS=AMI connected');
  }, 30_000);

  it('comes after the bounded wait with AMI down in its status when no PBX answers', async () => {
    notify = await startNotifySocket();
    const { path, received } = notify;
    portal = await startBitrixEmulator();
    const startedAt = Date.now();
    daemon = start(await freePort(), path, 1000);
    const ready = await waitFor(() => readyOf(received), 'READY=1', 10_000);
    expect(ready.at - startedAt).toBeGreaterThanOrEqual(1000);
    expect(ready.text).toContain('STATUS=AMI down');
    expect(daemon.alive()).toBe(true);
  }, 30_000);
});
