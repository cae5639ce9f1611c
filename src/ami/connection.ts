import { EventEmitter } from 'node:events';
import { filterAdd, login, logoff, ping, type ActionHeaders } from './actions.js';
import { AmiActionError, type ActionOptions, type AmiClient, type AmiClientEvents, type AmiLogger, type AmiResponse } from './client.js';
import { DEFAULT_RECONNECT, openTcpSocket, type AmiConnectionOptions, type AmiSocket } from './connection-options.js';
import { AmiFramer } from './framer.js';
import { PendingActions } from './pending-actions.js';
import { PingWatchdog } from './ping-watchdog.js';
import { RestartDetector } from './restart-detector.js';
import { field, type AmiMessage, type FramerOutput } from './types.js';
import { backoffDelay, type BackoffPolicy } from '../util/backoff.js';

export type { AmiConnectionOptions, AmiSocket, ReconnectPolicy } from './connection-options.js';

interface ConnectWaiter {
  resolve(): void;
  reject(e: AmiActionError): void;
}

type State = 'idle' | 'connecting' | 'ready';

const silentLogger: AmiLogger = { info() {}, warn() {}, error() {}, debug() {} };

/** One AMI session that logs in, keeps itself alive (Ping) and comes back after drops (backoff). */
export class AmiConnection extends EventEmitter<AmiClientEvents> implements AmiClient {
  private readonly log: AmiLogger;
  /** The reconnect delays, as the one backoff rule takes them (src/util/backoff.ts). */
  private readonly backoff: BackoffPolicy;
  private readonly pending: PendingActions;
  private readonly watchdog: PingWatchdog;
  private readonly restarts: RestartDetector;
  private waiters: ConnectWaiter[] = [];
  private state: State = 'idle';
  /** False after close(): no more reconnects. */
  private wanted = false;
  private socket: AmiSocket | undefined;
  /** Bumped per socket so late callbacks of an old socket are ignored. */
  private generation = 0;
  private attempt = 0;
  private banner = '';
  private reconnectTimer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: AmiConnectionOptions) {
    super();
    this.log = opts.logger ?? silentLogger;
    const r = { ...DEFAULT_RECONNECT, ...opts.reconnect };
    this.backoff = { initialMs: r.initialDelayMs, maxMs: r.maxDelayMs, factor: r.factor, jitter: r.jitter, random: opts.random ?? Math.random };
    this.pending = new PendingActions(opts.actionIdPrefix ?? 'b24-', this.log);
    this.watchdog = new PingWatchdog(opts.pingIntervalMs ?? 15_000, opts.pingTimeoutMs ?? 5000);
    this.restarts = new RestartDetector(opts.clock ?? Date.now);
  }

  get isConnected(): boolean {
    return this.state === 'ready';
  }

  connect(): Promise<void> {
    if (this.state === 'ready') return Promise.resolve();
    this.wanted = true;
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (this.state === 'idle' && this.reconnectTimer === undefined) this.openSocket();
    return done;
  }

  async close(): Promise<void> {
    this.wanted = false;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const socket = this.socket;
    if (this.state === 'ready' && socket !== undefined) {
      await this.send(logoff(), 2000).catch(() => undefined);
    }
    this.teardown('closed by client', 'DISCONNECTED');
    socket?.end();
    socket?.destroy();
  }

  action(name: string, headers: ActionHeaders = {}, opts: ActionOptions = {}): Promise<AmiResponse> {
    if (this.state !== 'ready') {
      return Promise.reject(new AmiActionError('DISCONNECTED', `AMI not connected, ${name} not sent`, name));
    }
    return this.send({ action: name, headers }, opts.timeoutMs ?? this.opts.actionTimeoutMs ?? 10_000);
  }

  private openSocket(): void {
    const gen = ++this.generation;
    this.state = 'connecting';
    this.banner = '';
    const framer = new AmiFramer();
    let socket: AmiSocket;
    try {
      socket = (this.opts.createSocket ?? openTcpSocket)(this.opts.host, this.opts.port);
    } catch (err) {
      // e.g. an invalid port: fail like a refused connection, asynchronously, and keep the retry loop.
      setImmediate(() => this.drop(gen, `cannot open socket: ${(err as Error).message}`, 'CONNECT_FAILED'));
      return;
    }
    this.socket = socket;
    this.connectTimer = setTimeout(() => this.drop(gen, 'connect timeout', 'CONNECT_FAILED'), this.opts.connectTimeoutMs ?? 10_000);
    socket.on('data', (chunk) => {
      if (gen !== this.generation) return;
      // Everything runs synchronously here so the socket is drained as fast as it fills.
      for (const out of framer.push(chunk)) this.handleOutput(out);
    });
    socket.on('error', (err) => this.drop(gen, `socket error: ${err.message}`, 'CONNECT_FAILED'));
    socket.on('close', () => this.drop(gen, 'socket closed', 'CONNECT_FAILED'));
  }

  private handleOutput(out: FramerOutput): void {
    if (out.type === 'message') {
      if (!this.pending.take(out.message)) this.onEvent(out.message);
    } else if (out.type === 'banner') this.onBanner(out.text);
    else {
      this.log.warn({ code: out.code, detail: out.detail }, 'AMI framing error, message skipped');
      this.safeEmit('framingError', out);
    }
  }

  private onBanner(text: string): void {
    if (this.state !== 'connecting' || this.banner !== '') return;
    this.banner = text;
    void this.loginAndSetUp(this.generation);
  }

  private async loginAndSetUp(gen: number): Promise<void> {
    const timeout = this.opts.connectTimeoutMs ?? 10_000;
    try {
      await this.send(login({ username: this.opts.username, secret: this.opts.secret, events: this.opts.events }), timeout);
    } catch (err) {
      if (gen !== this.generation) return;
      const e = err as AmiActionError;
      if (e.code === 'ACTION_FAILED') this.onAuthFailed(gen, e);
      // A secret that cannot be sent is a configuration error, reported like a refused login.
      else this.drop(gen, 'login not completed', e.code === 'UNSAFE_HEADER' ? 'AUTH_FAILED' : 'CONNECT_FAILED', e.message);
      return;
    }
    await Promise.all((this.opts.filters ?? []).map((f) => this.installFilter(f, timeout)));
    if (gen !== this.generation) return;
    clearTimeout(this.connectTimer);
    this.state = 'ready';
    this.attempt = 0;
    const amiVersion = this.banner.slice(this.banner.lastIndexOf('/') + 1);
    this.log.info({ host: this.opts.host, port: this.opts.port, amiVersion }, 'AMI connected');
    this.safeEmit('connected', { banner: this.banner, amiVersion });
    for (const w of this.takeWaiters()) w.resolve();
    this.watchdog.start(
      (timeoutMs) => this.send(ping(), timeoutMs),
      () => this.drop(gen, 'ping timeout', 'CONNECT_FAILED'),
    );
  }

  private async installFilter(filter: string, timeoutMs: number): Promise<void> {
    try {
      await this.send(filterAdd(filter), timeoutMs);
    } catch (err) {
      if ((err as AmiActionError).code === 'DISCONNECTED') return;
      this.log.warn({ filter, err: (err as Error).message }, 'AMI event filter refused, going on without it');
    }
  }

  private onAuthFailed(gen: number, err: AmiActionError): void {
    const reason = field(err.response ?? {}, 'Message') ?? 'login refused';
    const message = `AMI login as "${this.opts.username}" failed: ${reason}`;
    this.log.error({ host: this.opts.host, port: this.opts.port, username: this.opts.username }, message);
    this.safeEmit('authFailed', { message });
    this.drop(gen, 'authentication failed', 'AUTH_FAILED', message);
  }

  /** The socket of generation `gen` is gone or must go: clean up, then retry unless closed. */
  private drop(gen: number, reason: string, code: 'CONNECT_FAILED' | 'AUTH_FAILED', message?: string): void {
    if (gen !== this.generation) return;
    const socket = this.socket;
    this.teardown(reason, code, message);
    socket?.destroy();
    if (this.wanted) this.scheduleReconnect();
  }

  private teardown(reason: string, code: 'CONNECT_FAILED' | 'AUTH_FAILED' | 'DISCONNECTED', message?: string): void {
    const wasReady = this.state === 'ready';
    this.generation++;
    this.state = 'idle';
    this.socket = undefined;
    this.watchdog.stop();
    clearTimeout(this.connectTimer);
    this.pending.failAll(reason);
    const failure = new AmiActionError(code, message ?? `AMI connection to ${this.opts.host}:${this.opts.port} failed: ${reason}`);
    for (const w of this.takeWaiters()) w.reject(failure);
    if (wasReady) {
      // Our own close() is routine; any other loss of the connection is worth a warning.
      if (!this.wanted) this.log.info({ reason }, 'AMI disconnected');
      else this.log.warn({ reason }, 'AMI disconnected');
      this.safeEmit('disconnected', { reason });
    }
  }

  private scheduleReconnect(): void {
    const attempt = ++this.attempt;
    const delayMs = backoffDelay(attempt, this.backoff);
    this.log.info({ attempt, delayMs }, 'AMI reconnecting');
    this.safeEmit('reconnecting', { attempt, delayMs });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.wanted && this.state === 'idle') this.openSocket();
    }, delayMs);
  }

  /** Write one action and track its answer; no state check (login and filters go through here). */
  private send(req: { action: string; headers: ActionHeaders }, timeoutMs: number): Promise<AmiResponse> {
    const socket = this.socket;
    if (socket === undefined) {
      return Promise.reject(new AmiActionError('DISCONNECTED', `AMI not connected, ${req.action} not sent`, req.action));
    }
    return this.pending.send((frame) => socket.write(frame), req, timeoutMs);
  }

  private onEvent(msg: AmiMessage): void {
    const name = field(msg, 'Event');
    if (name === 'Shutdown') this.restarts.shutdown();
    if (name === 'FullyBooted') {
      const uptime = Number(field(msg, 'Uptime'));
      const restarted = this.restarts.booted(uptime);
      this.safeEmit('fullyBooted', msg);
      if (restarted) {
        this.log.warn({ uptime }, 'Asterisk restarted');
        this.safeEmit('asteriskRestarted', { uptime });
      }
    }
    this.safeEmit('event', msg);
  }

  /** A throwing listener must not break the read loop (and with it every later event). */
  private safeEmit<K extends keyof AmiClientEvents>(event: K, ...args: AmiClientEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: AmiClientEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.log.error({ event, err: (err as Error).message }, 'AMI event listener threw');
    }
  }

  private takeWaiters(): ConnectWaiter[] {
    const w = this.waiters;
    this.waiters = [];
    return w;
  }
}
