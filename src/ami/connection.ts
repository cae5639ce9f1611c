import { EventEmitter } from 'node:events';
import net from 'node:net';
import { filterAdd, login, logoff, ping, serializeAction, type ActionHeaders } from './actions.js';
import {
  AmiActionError,
  type ActionOptions,
  type AmiClient,
  type AmiClientEvents,
  type AmiLogger,
  type AmiResponse,
} from './client.js';
import { AmiFramer } from './framer.js';
import { field, type AmiMessage, type FramerOutput } from './types.js';
import { backoffDelay } from '../util/backoff.js';

/** The part of net.Socket we use, so tests can hand in any duplex. */
export interface AmiSocket {
  write(data: string): boolean;
  end(): unknown;
  destroy(): unknown;
  on(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

export interface ReconnectPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  factor: number;
  /** 0.2 = each delay is randomly moved up to 20 % either way. */
  jitter: number;
}

export interface AmiConnectionOptions {
  host: string;
  port: number;
  username: string;
  secret: string;
  /** Login `Events:` value; default 'on'. */
  events?: string;
  /** Sent as `Action: Filter` / `Operation: Add` after each login; a refused filter is only logged. */
  filters?: string[];
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
  reconnect?: Partial<ReconnectPolicy>;
  /** Socket open + banner + login + filters must fit in this. */
  connectTimeoutMs?: number;
  actionTimeoutMs?: number;
  actionIdPrefix?: string;
  logger?: AmiLogger;
  createSocket?: (host: string, port: number) => AmiSocket;
  /** For deterministic jitter in tests. */
  random?: () => number;
  /** Wall clock (ms) for Asterisk's boot time; default Date.now. */
  clock?: () => number;
}

interface PendingAction {
  name: string;
  resolve(r: AmiResponse): void;
  reject(e: AmiActionError): void;
  timer: NodeJS.Timeout;
  /** Set once `EventList: start` came: list events are being collected. */
  listResponse?: AmiMessage;
  events: AmiMessage[];
}

interface ConnectWaiter {
  resolve(): void;
  reject(e: AmiActionError): void;
}

type State = 'idle' | 'connecting' | 'ready';

/** Uptime has one-second steps and the login takes a moment: boot times closer than this are one boot. */
const BOOT_TOLERANCE_MS = 5_000;

const silentLogger: AmiLogger = { info() {}, warn() {}, error() {}, debug() {} };

/** One AMI session that logs in, keeps itself alive (Ping) and comes back after drops (backoff). */
export class AmiConnection extends EventEmitter<AmiClientEvents> implements AmiClient {
  private readonly log: AmiLogger;
  private readonly backoff: ReconnectPolicy;
  private readonly pending = new Map<string, PendingAction>();
  private waiters: ConnectWaiter[] = [];
  private state: State = 'idle';
  /** False after close(): no more reconnects. */
  private wanted = false;
  private socket: AmiSocket | undefined;
  /** Bumped per socket so late callbacks of an old socket are ignored. */
  private generation = 0;
  private attempt = 0;
  private actionCounter = 0;
  private banner = '';
  /** When Asterisk booted (our clock minus its Uptime), from the last FullyBooted. */
  private lastBootAt: number | undefined;
  private shutdownSeen = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: AmiConnectionOptions) {
    super();
    this.log = opts.logger ?? silentLogger;
    this.backoff = { initialDelayMs: 500, maxDelayMs: 30_000, factor: 2, jitter: 0.2, ...opts.reconnect };
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
      socket = (this.opts.createSocket ?? defaultSocket)(this.opts.host, this.opts.port);
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
    if (out.type === 'message') this.dispatch(out.message);
    else if (out.type === 'banner') this.onBanner(out.text);
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
    this.schedulePing(gen);
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
    clearTimeout(this.pingTimer);
    clearTimeout(this.connectTimer);
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new AmiActionError('DISCONNECTED', `AMI connection lost (${reason}) before ${p.name} completed`, p.name, id));
    }
    this.pending.clear();
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
    const { initialDelayMs, maxDelayMs, factor, jitter } = this.backoff;
    const delayMs = backoffDelay(attempt, { initialMs: initialDelayMs, maxMs: maxDelayMs, factor, jitter, random: this.opts.random ?? Math.random });
    this.log.info({ attempt, delayMs }, 'AMI reconnecting');
    this.safeEmit('reconnecting', { attempt, delayMs });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.wanted && this.state === 'idle') this.openSocket();
    }, delayMs);
  }

  private schedulePing(gen: number): void {
    const interval = this.opts.pingIntervalMs ?? 15_000;
    if (interval <= 0 || gen !== this.generation) return;
    this.pingTimer = setTimeout(() => {
      if (gen !== this.generation) return;
      this.send(ping(), this.opts.pingTimeoutMs ?? 5000).then(
        () => this.schedulePing(gen),
        (err: AmiActionError) => {
          // A hung Asterisk keeps TCP up; only a missing Pong tells.
          if (err.code === 'TIMEOUT') this.drop(gen, 'ping timeout', 'CONNECT_FAILED');
        },
      );
    }, interval);
  }

  /** Write one action and track its answer; no state check (login and filters go through here). */
  private send(req: { action: string; headers: ActionHeaders }, timeoutMs: number): Promise<AmiResponse> {
    const socket = this.socket;
    if (socket === undefined) {
      return Promise.reject(new AmiActionError('DISCONNECTED', `AMI not connected, ${req.action} not sent`, req.action));
    }
    const id = `${this.opts.actionIdPrefix ?? 'b24-'}${++this.actionCounter}`;
    let frame: string;
    try {
      frame = serializeAction(req.action, req.headers, id);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<AmiResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new AmiActionError('TIMEOUT', `AMI ${req.action} got no answer within ${timeoutMs} ms`, req.action, id));
      }, timeoutMs);
      this.pending.set(id, { name: req.action, resolve, reject, timer, events: [] });
      this.log.debug({ action: req.action, actionId: id }, 'AMI action sent');
      socket.write(frame);
    });
  }

  private dispatch(msg: AmiMessage): void {
    const actionId = field(msg, 'ActionID');
    const p = actionId === undefined ? undefined : this.pending.get(actionId);
    if (msg['Event'] !== undefined) {
      if (p?.listResponse !== undefined && actionId !== undefined) this.collectListEvent(actionId, p, msg);
      else this.onEvent(msg);
      return;
    }
    if (p === undefined || actionId === undefined || p.listResponse !== undefined) {
      this.log.debug({ actionId }, 'AMI response for no pending action ignored');
      return;
    }
    const response = (field(msg, 'Response') ?? '').toLowerCase();
    if (response === 'error') {
      this.finish(actionId, p);
      const text = field(msg, 'Message') ?? 'no message';
      p.reject(new AmiActionError('ACTION_FAILED', `AMI ${p.name} failed: ${text}`, p.name, actionId, msg));
    } else if ((field(msg, 'EventList') ?? '').toLowerCase() === 'start') {
      p.listResponse = msg;
    } else {
      this.finish(actionId, p);
      p.resolve({ response: msg, events: [] });
    }
  }

  private collectListEvent(actionId: string, p: PendingAction, msg: AmiMessage): void {
    p.events.push(msg);
    const marker = (field(msg, 'EventList') ?? '').toLowerCase();
    if (marker === 'complete' || marker === 'cancelled') {
      this.finish(actionId, p);
      p.resolve({ response: p.listResponse ?? msg, events: p.events });
    }
  }

  private finish(actionId: string, p: PendingAction): void {
    clearTimeout(p.timer);
    this.pending.delete(actionId);
  }

  private onEvent(msg: AmiMessage): void {
    const name = field(msg, 'Event');
    if (name === 'Shutdown') this.shutdownSeen = true;
    if (name === 'FullyBooted') {
      const uptime = Number(field(msg, 'Uptime'));
      // Compare boot times, not uptimes: after a long connection a crashed Asterisk may already report more
      // uptime than it had at our last login, yet it booted later than the one we knew.
      const bootAt = Number.isFinite(uptime) ? (this.opts.clock ?? Date.now)() - uptime * 1000 : undefined;
      const restarted = this.shutdownSeen || (bootAt !== undefined && this.lastBootAt !== undefined && bootAt - this.lastBootAt > BOOT_TOLERANCE_MS);
      this.shutdownSeen = false;
      if (bootAt !== undefined) this.lastBootAt = bootAt;
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

function defaultSocket(host: string, port: number): AmiSocket {
  const socket = net.createConnection({ host, port });
  socket.setNoDelay(true);
  socket.setKeepAlive(true, 30_000);
  return socket;
}
