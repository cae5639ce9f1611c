import { spawn } from 'node:child_process';

/**
 * Tells systemd how the daemon is doing (sd_notify(3)): READY=1 once started, WATCHDOG=1 from the event loop,
 * RELOADING=1 around a SIGHUP reload, STOPPING=1 at shutdown, STATUS=<text> for `systemctl status`.
 * A no-op when NOTIFY_SOCKET is unset (a terminal, the tests, a non-notify unit).
 *
 * Transport: the protocol is one datagram on the AF_UNIX socket named by NOTIFY_SOCKET. Node cannot send unix
 * datagrams (`dgram` is UDP only, `net` is stream only), so the choices were a native addon (`unix-dgram`, which
 * zigbee2mqtt loads as an optional dependency; `sd-notify`) or the `systemd-notify` tool that ships with systemd.
 * We use the tool: no compiler or prebuilt binary on the PBX, it handles abstract sockets (`@...`), and since
 * systemd 246 it waits (BARRIER=1) until systemd has processed the message, so the short-lived sender is still
 * attributed to our unit. Its one requirement is `NotifyAccess=all` in the unit (the sender is our child).
 * Cost: one short process per message, i.e. one every WatchdogSec/2 (15 s); measured ~6 ms each.
 */

/** Sends one notification made of `KEY=VALUE` fields. */
export type NotifySend = (fields: string[]) => Promise<void>;

export interface NotifyLogger {
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface SdNotifyOptions {
  /** The daemon's environment (NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID, PATH); passed in, never read here. */
  env: Record<string, string | undefined>;
  pid?: number;
  /** Default: systemdNotifySender for env.NOTIFY_SOCKET. */
  send?: NotifySend;
  logger?: NotifyLogger;
  timers?: { setInterval: typeof setInterval; clearInterval: typeof clearInterval };
  /** Monotonic clock in µs for RELOADING's MONOTONIC_USEC; default process.hrtime (CLOCK_MONOTONIC on Linux). */
  monotonicUsec?: () => bigint;
}

export interface SdNotifier {
  /** False when NOTIFY_SOCKET is unset: every call then resolves at once and sends nothing. */
  readonly enabled: boolean;
  /** Milliseconds between WATCHDOG=1 pings (half of WatchdogSec); 0 when systemd asked for no watchdog. */
  readonly watchdogIntervalMs: number;
  ready(status?: string): Promise<void>;
  reloading(status?: string): Promise<void>;
  stopping(status?: string): Promise<void>;
  status(text: string): Promise<void>;
  watchdog(): Promise<void>;
  /** Pings from a timer on the event loop: a blocked loop stops the pings and systemd restarts the daemon. */
  startWatchdog(): void;
  stopWatchdog(): void;
}

const noopLogger: NotifyLogger = { warn() {}, debug() {} };

/** STATUS is one field of a newline-separated message: a newline would start a field of its own. */
const oneLine = (text: string): string => text.replace(/[\r\n]+/g, ' ').slice(0, 400);

export function createSdNotifier(opts: SdNotifyOptions): SdNotifier {
  const socket = opts.env['NOTIFY_SOCKET'];
  const enabled = socket !== undefined && socket !== '';
  const logger = opts.logger ?? noopLogger;
  const timers = opts.timers ?? { setInterval, clearInterval };
  const monotonicUsec = opts.monotonicUsec ?? (() => process.hrtime.bigint() / 1000n);
  const send = opts.send ?? (enabled ? systemdNotifySender({ socket, path: opts.env['PATH'] }) : async () => undefined);
  const watchdogIntervalMs = enabled ? watchdogInterval(opts.env, opts.pid ?? process.pid) : 0;

  let chain: Promise<void> = Promise.resolve();
  let broken = false;
  let failures = 0;
  let watchdogInFlight = false;
  let timer: ReturnType<typeof setInterval> | undefined;

  /** Messages go out one at a time, in order (READY must not overtake STATUS, nor STOPPING overtake READY). */
  const notify = (fields: string[]): Promise<void> => {
    if (!enabled || broken) return Promise.resolve();
    chain = chain.then(() =>
      send(fields).then(
        () => void (failures = 0),
        (err: unknown) => {
          failures++;
          const code = (err as NodeJS.ErrnoException).code;
          // Not fatal: the daemon works without it, but systemd will time out the start or fire the watchdog.
          if (code === 'ENOENT') {
            broken = true;
            logger.warn({ err }, 'systemd-notify not found: systemd will not see READY/WATCHDOG (install systemd or use Type=simple)');
          } else if (failures === 1) logger.warn({ err, fields }, 'sd_notify failed');
          else logger.debug({ err, fields, failures }, 'sd_notify failed again');
        },
      ),
    );
    return chain;
  };
  const withStatus = (fields: string[], status?: string) => (status === undefined ? fields : [...fields, `STATUS=${oneLine(status)}`]);

  const notifier: SdNotifier = {
    enabled,
    watchdogIntervalMs,
    ready: (status) => notify(withStatus(['READY=1'], status)),
    reloading: (status) => notify(withStatus(['RELOADING=1', `MONOTONIC_USEC=${monotonicUsec()}`], status)),
    stopping: (status) => {
      notifier.stopWatchdog();
      return notify(withStatus(['STOPPING=1'], status));
    },
    status: (text) => notify([`STATUS=${oneLine(text)}`]),
    watchdog: () => {
      // A ping still queued behind a slow one is enough; piling more up would only hide a stuck sender.
      if (watchdogInFlight) return Promise.resolve();
      watchdogInFlight = true;
      return notify(['WATCHDOG=1']).finally(() => (watchdogInFlight = false));
    },
    startWatchdog() {
      if (watchdogIntervalMs <= 0 || timer !== undefined) return;
      timer = timers.setInterval(() => void notifier.watchdog(), watchdogIntervalMs);
      // The watchdog must never be what keeps a stopping daemon alive.
      timer.unref?.();
    },
    stopWatchdog() {
      if (timer !== undefined) timers.clearInterval(timer);
      timer = undefined;
    },
  };
  return notifier;
}

/** Half of WatchdogSec, as sd_watchdog_enabled(3) advises; 0 when unset or meant for another process. */
export function watchdogInterval(env: Record<string, string | undefined>, pid: number): number {
  const usec = Number(env['WATCHDOG_USEC']);
  if (!Number.isFinite(usec) || usec <= 0) return 0;
  const forPid = env['WATCHDOG_PID'];
  if (forPid !== undefined && forPid !== '' && Number(forPid) !== pid) return 0;
  return Math.max(1, Math.floor(usec / 1000 / 2));
}

export interface SenderOptions {
  socket: string;
  /** PATH to find systemd-notify in; systemd gives services a standard one. */
  path?: string | undefined;
  command?: string;
  /** A sender stuck on the barrier (systemd busy) is killed after this long. */
  timeoutMs?: number;
}

/** Runs `systemd-notify KEY=VALUE...` with NOTIFY_SOCKET set; rejects on a missing tool or a non-zero exit. */
export function systemdNotifySender(opts: SenderOptions): NotifySend {
  const command = opts.command ?? 'systemd-notify';
  const env = { NOTIFY_SOCKET: opts.socket, PATH: opts.path ?? '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' };
  return (fields) =>
    new Promise<void>((resolve, reject) => {
      const child = spawn(command, fields, { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: opts.timeoutMs ?? 5000, killSignal: 'SIGKILL' });
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-500)));
      child.on('error', reject);
      child.on('close', (code, signal) => {
        if (code === 0) resolve();
        else reject(new Error(`${command} ${signal ? `killed by ${signal}` : `exited with ${code}`}${stderr ? `: ${stderr.trim()}` : ''}`));
      });
    });
}
