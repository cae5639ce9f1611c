import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createSdNotifier, systemdNotifySender, watchdogInterval, type NotifySend } from '../../src/obs/sd-notify.js';
import { captureLogger } from '../support/logger.js';
import { startNotifySocket, type NotifySocket } from '../support/notify-socket.js';
import { tempDir } from '../support/tmp.js';
import { requireTool } from '../support/tools.js';

/** A fake transport: records every message, as the fields systemd would receive. */
function recorder(fail?: (fields: string[]) => Error | undefined): { send: NotifySend; sent: string[][] } {
  const sent: string[][] = [];
  return {
    sent,
    send: async (fields) => {
      sent.push(fields);
      const err = fail?.(fields);
      if (err) throw err;
    },
  };
}

/** What was logged, as [level name, message]. */
function logged(sink: ReturnType<typeof captureLogger>): Array<{ level: string; msg: string }> {
  const names: Record<number, string> = { 20: 'debug', 30: 'info', 40: 'warn', 50: 'error' };
  return sink.lines().map((l) => ({ level: names[l['level'] as number] ?? String(l['level']), msg: String(l['msg']) }));
}

const SOCKET = { NOTIFY_SOCKET: '/run/systemd/notify' };

describe('createSdNotifier', () => {
  afterEach(() => vi.useRealTimers());

  it('sends nothing and resolves at once when NOTIFY_SOCKET is unset', async () => {
    const { send, sent } = recorder();
    const n = createSdNotifier({ env: { WATCHDOG_USEC: '30000000' }, send });
    await n.ready('up');
    await n.watchdog();
    await n.stopping();
    n.startWatchdog();
    expect(n.enabled).toBe(false);
    expect(n.watchdogIntervalMs).toBe(0);
    expect(sent).toEqual([]);
  });

  it('sends READY, STATUS, RELOADING and STOPPING in the order they were asked for', async () => {
    const { send, sent } = recorder();
    const n = createSdNotifier({ env: SOCKET, send, monotonicUsec: () => 123456789n });
    void n.ready('AMI connected; portal reachable');
    void n.status('2 active calls');
    void n.reloading();
    void n.ready('reloaded');
    await n.stopping('draining 3 commands');
    expect(sent).toEqual([
      ['READY=1', 'STATUS=AMI connected; portal reachable'],
      ['STATUS=2 active calls'],
      ['RELOADING=1', 'MONOTONIC_USEC=123456789'],
      ['READY=1', 'STATUS=reloaded'],
      ['STOPPING=1', 'STATUS=draining 3 commands'],
    ]);
  });

  it('keeps a status on one line so it cannot inject another field', async () => {
    const { send, sent } = recorder();
    await createSdNotifier({ env: SOCKET, send }).status('line one\nREADY=1\r\nline three');
    expect(sent).toEqual([['STATUS=line one READY=1 line three']]);
  });

  it('pings WATCHDOG=1 every half WatchdogSec from a timer, and stops on STOPPING', async () => {
    vi.useFakeTimers();
    const { send, sent } = recorder();
    const n = createSdNotifier({ env: { ...SOCKET, WATCHDOG_USEC: '30000000' }, send });
    expect(n.watchdogIntervalMs).toBe(15_000);
    n.startWatchdog();
    n.startWatchdog();
    await vi.advanceTimersByTimeAsync(45_000);
    expect(sent).toEqual([['WATCHDOG=1'], ['WATCHDOG=1'], ['WATCHDOG=1']]);
    await n.stopping();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sent.slice(3)).toEqual([['STOPPING=1']]);
  });

  it('does not pile up watchdog pings behind one that has not finished', async () => {
    const pending: Array<() => void> = [];
    const sent: string[][] = [];
    const send: NotifySend = (fields) => {
      sent.push(fields);
      return new Promise<void>((resolve) => pending.push(resolve));
    };
    const n = createSdNotifier({ env: SOCKET, send });
    const first = n.watchdog();
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    void n.watchdog();
    void n.watchdog();
    pending.shift()?.();
    await first;
    const next = n.watchdog();
    await vi.waitFor(() => expect(sent).toHaveLength(2));
    pending.shift()?.();
    await next;
    expect(sent).toEqual([['WATCHDOG=1'], ['WATCHDOG=1']]);
  });

  it('disables itself with one warning when systemd-notify is missing', async () => {
    const sink = captureLogger();
    const { logger } = sink;
    const missing = Object.assign(new Error('spawn systemd-notify ENOENT'), { code: 'ENOENT' });
    const { send, sent } = recorder(() => missing);
    const n = createSdNotifier({ env: SOCKET, send, logger });
    await n.ready();
    await n.watchdog();
    expect(sent).toHaveLength(1);
    expect(logged(sink)).toEqual([{ level: 'warn', msg: expect.stringContaining('systemd-notify not found') as string }]);
  });

  it('never throws when a notification fails, and warns only for the first of a series', async () => {
    const sink = captureLogger();
    const { logger } = sink;
    const { send, sent } = recorder(() => new Error('exit 1'));
    const n = createSdNotifier({ env: SOCKET, send, logger });
    await expect(n.ready()).resolves.toBeUndefined();
    await n.watchdog();
    await n.watchdog();
    expect(sent).toHaveLength(3);
    expect(logged(sink).map((l) => l.level)).toEqual(['warn', 'debug', 'debug']);
  });
});

describe('watchdogInterval', () => {
  it('is half of WATCHDOG_USEC in milliseconds', () => {
    expect(watchdogInterval({ WATCHDOG_USEC: '30000000' }, 1)).toBe(15_000);
  });

  it('is 0 without WATCHDOG_USEC, with a bad one, or when WATCHDOG_PID names another process', () => {
    expect(watchdogInterval({}, 1)).toBe(0);
    expect(watchdogInterval({ WATCHDOG_USEC: 'soon' }, 1)).toBe(0);
    expect(watchdogInterval({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '99' }, 1)).toBe(0);
    expect(watchdogInterval({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '1' }, 1)).toBe(15_000);
  });
});

describe('systemdNotifySender against a real unix datagram socket', () => {
  beforeAll(() => requireTool('systemd-notify'));

  let listener: NotifySocket | undefined;
  afterEach(() => {
    listener?.close();
    listener = undefined;
  });

  it('delivers READY=1 with its status and a watchdog ping as systemd would receive them', async () => {
    listener = await startNotifySocket();
    const { path: socket } = listener;
    const received = () => listener!.received.map((m) => m.text);

    const n = createSdNotifier({ env: { NOTIFY_SOCKET: socket, PATH: process.env['PATH'] }, send: systemdNotifySender({ socket, path: process.env['PATH'] }) });
    await n.ready('AMI connected');
    await n.watchdog();
    await vi.waitFor(() => expect(received()).toContain('WATCHDOG=1'));
    // systemd-notify follows each message with BARRIER=1 and waits for it to be read: the order is kept.
    expect(received().filter((m) => m !== 'BARRIER=1')).toEqual(['READY=1\nSTATUS=AMI connected', 'WATCHDOG=1']);
  });

  it('rejects when nothing listens on the socket', async () => {
    const send = systemdNotifySender({ socket: join(tempDir('b24bridge-notify-'), 'no-such.sock'), path: process.env['PATH'] });
    await expect(send(['READY=1'])).rejects.toThrow(/systemd-notify exited with/);
  });
});
