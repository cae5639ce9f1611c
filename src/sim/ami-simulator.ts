import net from 'node:net';
import type { AmiMessage } from '../ami/types.js';
import { answerAction, type OnAction, type SimPbx } from './ami/answers.js';
import { LiveChannels } from './ami/live-channels.js';
import { header } from './ami/messages.js';
import { cloneQueueState, type SimQueueState } from './ami/queue-state.js';
import { TraceReplayer } from './ami/replay.js';
import { openSession, type AmiSimSession } from './ami/session.js';
import { replayItems } from './ami/trace.js';

/**
 * A small AMI server that behaves like Asterisk 22 where the bridge can tell (banner, login, FullyBooted,
 * Ping, lists, queue actions with Asterisk's own reply texts) and can replay recorded traces.
 * For tests and the demo only. Its parts live in ./ami/: sessions, action answers, the queue model, traces, replay.
 */

export type { OnAction } from './ami/answers.js';
export { formatAmiMessage } from './ami/messages.js';
export type { SimQueueState } from './ami/queue-state.js';
export type { AmiSimSession } from './ami/session.js';
export { readTraceEvents, traceEventsForReplay } from './ami/trace.js';

export interface AmiSimulatorOptions {
  host?: string;
  /** 0 = random free port. */
  port?: number;
  username: string;
  secret: string;
  /** Contents of a .ami file: its events are replayed to each session after login. */
  trace?: string | Buffer;
  /** 1 = real time from the events' Timestamp headers; 0 or Infinity = as fast as possible (default). */
  speed?: number;
  /** Custom answers; return undefined to fall back to the built-in behaviour. */
  onAction?: OnAction;
  /** Without it queue actions always succeed and lists are empty; with it they act on this state. */
  queueState?: SimQueueState;
  /** Items for CoreShowChannels / Status. */
  channels?: AmiMessage[];
  /** Uptime reported in FullyBooted at start (seconds). */
  uptimeSeconds?: number;
  banner?: string;
  /** CoreSettings' AsteriskVersion; default that of the recordings' Asterisk (22.10.1). */
  asteriskVersion?: string;
}

export interface AmiSimulator {
  readonly host: string;
  readonly port: number;
  /** Every action received, in order, all sessions together. */
  readonly received: AmiMessage[];
  /** Every session since start, in order; `open` tells which are still connected. */
  readonly sessions: AmiSimSession[];
  close(): Promise<void>;
  /** Cut every client socket at once (as a crash or network loss would). */
  dropConnections(): void;
  /** Drop every client and start counting Uptime from 0 again (or from `uptimeSeconds`). */
  simulateRestart(uptimeSeconds?: number): void;
  replay(trace: string | Buffer, opts?: { speed?: number }): Promise<void>;
  emitEvent(msg: AmiMessage): void;
  /** Raw bytes to every logged-in session: for broken frames. */
  sendRaw(data: string | Buffer): void;
  /** Resolves with the first action of that name (case-insensitive) matching, already received or not. */
  waitForAction(name: string, predicate?: (a: AmiMessage) => boolean, timeoutMs?: number): Promise<AmiMessage>;
  setQueueState(state: SimQueueState | undefined): void;
  setChannels(items: AmiMessage[]): void;
  /** false = swallow Ping actions, like a hung Asterisk. */
  setAnswerPings(answer: boolean): void;
}

export async function startAmiSimulator(opts: AmiSimulatorOptions): Promise<AmiSimulator> {
  const host = opts.host ?? '127.0.0.1';
  const received: AmiMessage[] = [];
  const sessions: AmiSimSession[] = [];
  const sockets = new Set<net.Socket>();
  const watchers = new Set<() => void>();
  const live = new LiveChannels();
  const replayer = new TraceReplayer((msg) => live.track(msg));
  const traceItems = opts.trace === undefined ? undefined : replayItems(opts.trace);
  const eventSessions = () => sessions.filter((s) => s.open && s.loggedIn && s.eventsOn);
  const pbx: SimPbx = {
    username: opts.username,
    secret: opts.secret,
    onAction: opts.onAction,
    answerPings: true,
    bootedAt: Date.now() - (opts.uptimeSeconds ?? 1000) * 1000,
    asteriskVersion: opts.asteriskVersion ?? '22.10.1',
    queues: cloneQueueState(opts.queueState),
    channels: opts.channels,
    live,
    broadcast: (msg) => {
      live.track(msg);
      for (const s of eventSessions()) s.send(msg);
    },
    afterLogin: (s) => {
      if (traceItems !== undefined) void replayer.replayTo(() => (s.open ? [s] : null), traceItems, opts.speed ?? Infinity);
    },
  };
  let nextId = 1;

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const session = openSession(socket, nextId++, opts.banner ?? 'Asterisk Call Manager/11.0.0', (s, a) => {
      received.push(a);
      for (const w of [...watchers]) w();
      answerAction(pbx, s, a);
    });
    sessions.push(session);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;

  const dropConnections = () => {
    for (const s of sessions) s.open = false;
    for (const socket of sockets) socket.destroy();
  };

  return {
    host,
    port,
    received,
    sessions,
    close: async () => {
      replayer.stop();
      dropConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    dropConnections,
    simulateRestart: (uptimeSeconds = 0) => {
      pbx.bootedAt = Date.now() - uptimeSeconds * 1000;
      dropConnections();
    },
    replay: (trace, o = {}) => replayer.replayTo(eventSessions, replayItems(trace), o.speed ?? opts.speed ?? Infinity),
    emitEvent: (msg) => pbx.broadcast(msg),
    sendRaw: (data) => {
      for (const s of sessions) if (s.open && s.loggedIn) s.sendRaw(data);
    },
    waitForAction: (name, predicate = () => true, timeoutMs = 5000) =>
      new Promise<AmiMessage>((resolve, reject) => {
        const find = () => received.find((a) => header(a, 'Action')?.toLowerCase() === name.toLowerCase() && predicate(a));
        const check = () => {
          const hit = find();
          if (hit === undefined) return;
          clearTimeout(timer);
          watchers.delete(check);
          resolve(hit);
        };
        const timer = setTimeout(() => {
          watchers.delete(check);
          reject(new Error(`simulator: no ${name} action within ${timeoutMs} ms`));
        }, timeoutMs);
        watchers.add(check);
        check();
      }),
    setQueueState: (state) => {
      pbx.queues = cloneQueueState(state);
    },
    setChannels: (items) => {
      pbx.channels = items;
    },
    setAnswerPings: (answer) => {
      pbx.answerPings = answer;
    },
  };
}
