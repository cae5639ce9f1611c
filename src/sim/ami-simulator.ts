import net from 'node:net';
import { AmiFramer } from '../ami/framer.js';
import type { AmiMessage } from '../ami/types.js';

/**
 * A small AMI server that behaves like Asterisk 22 where the bridge can tell (banner, login, FullyBooted,
 * Ping, lists, queue actions with Asterisk's own reply texts) and can replay recorded traces.
 * For tests and the demo only.
 */

export interface SimQueueState {
  /** `Event: QueueParams` items, one per queue. */
  params: AmiMessage[];
  /** `Event: QueueMember` items (Queue, Name, Location, Membership, Penalty, Paused, PausedReason...). */
  members: AmiMessage[];
}

export interface AmiSimSession {
  readonly id: number;
  loggedIn: boolean;
  /** False after `Events: off`: no broadcast events, like an Asterisk session with an empty event mask. */
  eventsOn: boolean;
  open: boolean;
  /** Every byte the client sent (latin1, first 1 MB). */
  rawInput: string;
  send(msg: AmiMessage): void;
  sendRaw(data: string | Buffer): void;
  close(): void;
}

export type OnAction = (action: AmiMessage, session: AmiSimSession) => AmiMessage[] | undefined;

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

interface TraceItem {
  raw: Buffer;
  message: AmiMessage;
}

/** Every `Event:` message of a recorded .ami stream, in order. */
export function readTraceEvents(trace: string | Buffer): AmiMessage[] {
  return splitTrace(trace)
    .map((i) => i.message)
    .filter((m) => m['Event'] !== undefined);
}

/**
 * The events a live session would have seen: those after the login response, without the recorder's own
 * handshake FullyBooted (the simulator sends one) and without list items answering the recorder's actions
 * (ActionID and no Privilege: Asterisk sends those to the asking session only).
 */
export function traceEventsForReplay(trace: string | Buffer): AmiMessage[] {
  return replayItems(trace).map((i) => i.message);
}

function replayItems(trace: string | Buffer): TraceItem[] {
  const items = splitTrace(trace);
  // The recorded Login's answer: a Response that is no event (OriginateResponse events carry a Response too).
  const login = items.findIndex((i) => i.message['Response'] !== undefined && i.message['Event'] === undefined);
  const after = items.slice(login + 1);
  if (after[0]?.message['Event'] === 'FullyBooted') after.shift();
  return after.filter(
    (i) => i.message['Event'] !== undefined && (i.message['ActionID'] === undefined || i.message['Privilege'] !== undefined),
  );
}

/** Cut a trace into messages, keeping each one's exact original bytes. */
function splitTrace(trace: string | Buffer): TraceItem[] {
  const buf = typeof trace === 'string' ? Buffer.from(trace, 'utf8') : trace;
  const items: TraceItem[] = [];
  let start = 0;
  let pos = 0;
  if (buf.subarray(0, 22).toString('latin1') === 'Asterisk Call Manager/') start = pos = buf.indexOf(0x0a) + 1;
  while (pos < buf.length) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl === -1) break;
    const blank = nl === pos || (nl === pos + 1 && buf[pos] === 0x0d);
    pos = nl + 1;
    if (!blank) continue;
    const raw = buf.subarray(start, pos);
    start = pos;
    for (const out of new AmiFramer({ expectBanner: false }).push(raw)) {
      if (out.type === 'message') items.push({ raw, message: out.message });
    }
  }
  return items;
}

export function formatAmiMessage(msg: AmiMessage): string {
  let s = '';
  for (const [k, v] of Object.entries(msg)) {
    for (const item of typeof v === 'string' ? [v] : v) s += `${k}: ${item}\r\n`;
  }
  return `${s}\r\n`;
}

/** Case-insensitive header lookup, as Asterisk reads action headers. */
function header(msg: AmiMessage, key: string): string | undefined {
  const lower = key.toLowerCase();
  for (const k of Object.keys(msg)) {
    if (k.toLowerCase() === lower) {
      const v = msg[k];
      return typeof v === 'string' ? v : v?.[0];
    }
  }
  return undefined;
}

const isTrue = (v: string | undefined): boolean => /^(yes|true|y|t|1|on)$/i.test(v ?? '');

/** List actions: reply text, item event name, completion event name. */
const LISTS: Record<string, [string, string, string]> = {
  queuestatus: ['Queue status will follow', '', 'QueueStatusComplete'],
  queuesummary: ['Queue summary will follow', 'QueueSummary', 'QueueSummaryComplete'],
  coreshowchannels: ['Channels will follow', 'CoreShowChannel', 'CoreShowChannelsComplete'],
  status: ['Channel status will follow', 'Status', 'StatusComplete'],
};

export async function startAmiSimulator(opts: AmiSimulatorOptions): Promise<AmiSimulator> {
  const host = opts.host ?? '127.0.0.1';
  const received: AmiMessage[] = [];
  const sessions: AmiSimSession[] = [];
  const sockets = new Set<net.Socket>();
  const watchers = new Set<() => void>();
  const sleepers = new Set<() => void>();
  let queues = cloneQueueState(opts.queueState);
  let channels = opts.channels;
  // Like Asterisk, CoreShowChannels lists the channels the events sent so far created and did not hang up.
  const live = new Map<string, AmiMessage>();
  const track = (msg: AmiMessage) => {
    const id = msg['Uniqueid'];
    if (typeof id !== 'string') return;
    if (msg['Event'] === 'Hangup') live.delete(id);
    else if (msg['Event'] === 'Newchannel' || live.has(id)) live.set(id, msg);
  };
  const liveChannelItems = (): AmiMessage[] =>
    [...live.values()].map((m) => {
      const { Event: _e, Privilege: _p, Timestamp: _t, ...rest } = m;
      return { Event: 'CoreShowChannel', ...rest };
    });
  let answerPings = true;
  let bootedAt = Date.now() - (opts.uptimeSeconds ?? 1000) * 1000;
  let closed = false;
  let nextId = 1;
  const traceItems = opts.trace === undefined ? undefined : replayItems(opts.trace);

  const eventSessions = () => sessions.filter((s) => s.open && s.loggedIn && s.eventsOn);
  const broadcast = (msg: AmiMessage) => {
    track(msg);
    for (const s of eventSessions()) s.send(msg);
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        sleepers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      sleepers.add(done);
    });

  /** `targets` returns null when the replay should stop (its session is gone). */
  async function replayTo(targets: () => AmiSimSession[] | null, items: TraceItem[], speed: number): Promise<void> {
    if (!(speed > 0 && Number.isFinite(speed))) {
      const all = Buffer.concat(items.map((i) => i.raw));
      for (const i of items) track(i.message);
      for (const s of targets() ?? []) s.sendRaw(all);
      return;
    }
    // An absolute timeline: events already due go out together, so timer granularity never adds up to drift.
    let firstTs: number | undefined;
    const start = Date.now();
    for (const item of items) {
      const ts = Number(item.message['Timestamp']);
      if (Number.isFinite(ts)) {
        firstTs ??= ts;
        const wait = start + ((ts - firstTs) * 1000) / speed - Date.now();
        if (wait >= 1) await sleep(wait);
      }
      const to = targets();
      if (closed || to === null) return;
      track(item.message);
      for (const s of to) s.sendRaw(item.raw);
    }
  }

  function reply(s: AmiSimSession, actionId: string | undefined, response: string, rest: AmiMessage = {}): void {
    s.send({ Response: response, ...(actionId === undefined ? {} : { ActionID: actionId }), ...rest });
  }

  function sendList(s: AmiSimSession, actionId: string | undefined, key: string, items: AmiMessage[]): void {
    const [text, itemEvent, completeEvent] = LISTS[key] ?? ['', '', ''];
    const id: AmiMessage = actionId === undefined ? {} : { ActionID: actionId };
    const renamed: AmiMessage = itemEvent ? { Event: itemEvent } : {};
    const extra: AmiMessage = key === 'status' ? { Items: String(items.length) } : {};
    reply(s, actionId, 'Success', { EventList: 'start', Message: text });
    for (const item of items) s.send({ ...item, ...renamed, ...id });
    s.send({ Event: completeEvent, ...id, EventList: 'Complete', ListItems: String(items.length), ...extra });
  }

  function handleAction(s: AmiSimSession, a: AmiMessage): void {
    received.push(a);
    for (const w of [...watchers]) w();
    const custom = opts.onAction?.(a, s);
    const actionId = header(a, 'ActionID');
    if (custom !== undefined) {
      // Responses get the action's ActionID unless the handler set one.
      const needsId = (m: AmiMessage) => m['Response'] !== undefined && m['ActionID'] === undefined && actionId !== undefined;
      for (const m of custom) s.send(needsId(m) ? { ...m, ActionID: actionId ?? '' } : m);
      return;
    }
    const name = (header(a, 'Action') ?? '').toLowerCase();
    const ok = (message: string) => reply(s, actionId, 'Success', { Message: message });
    const error = (message: string) => reply(s, actionId, 'Error', { Message: message });
    if (name === '') return error('Missing action in request');
    if (!s.loggedIn && name !== 'login' && name !== 'logoff') return error('Permission denied');
    switch (name) {
      case 'login': {
        if (header(a, 'Username') !== opts.username || header(a, 'Secret') !== opts.secret) {
          error('Authentication failed');
          return s.close(); // like Asterisk: refuse and hang up
        }
        s.loggedIn = true;
        const events = (header(a, 'Events') ?? 'on').toLowerCase();
        s.eventsOn = events !== 'off' && events !== '0';
        ok('Authentication accepted');
        if (s.eventsOn) {
          const uptime = String(Math.floor((Date.now() - bootedAt) / 1000));
          s.send({ Event: 'FullyBooted', Privilege: 'system,all', Uptime: uptime, LastReload: uptime, Status: 'Fully Booted' });
          if (traceItems !== undefined) void replayTo(() => (s.open ? [s] : null), traceItems, opts.speed ?? Infinity);
        }
        return;
      }
      case 'logoff':
        reply(s, actionId, 'Goodbye', { Message: 'Thanks for all the fish.' });
        return s.close();
      case 'ping':
        if (answerPings) reply(s, actionId, 'Success', { Ping: 'Pong', Timestamp: (Date.now() / 1000).toFixed(6) });
        return;
      case 'filter':
        return ok('Success');
      case 'userevent':
        ok('Event Sent');
        return broadcast({ Event: 'UserEvent', Privilege: 'user,all', ...withoutAction(a) });
      case 'originate':
        ok('Originate successfully queued');
        return broadcast(originateResponse(a));
      case 'queuestatus':
        return sendList(s, actionId, name, queueStatusItems(queues, header(a, 'Queue'), header(a, 'Member')));
      case 'queuesummary':
        return sendList(s, actionId, name, queueSummaryItems(queues, header(a, 'Queue')));
      case 'coreshowchannels':
      case 'status':
        return sendList(s, actionId, name, channels ?? liveChannelItems());
      case 'queuepause':
      case 'queuepenalty':
      case 'queueadd':
      case 'queueremove': {
        const [success, message, events] = queueChange(queues, name, a);
        if (success) ok(message);
        else error(message);
        return events.forEach(broadcast);
      }
      default:
        return error(`Invalid/unknown command: ${header(a, 'Action')}. Use Action: ListCommands to show available commands.`);
    }
  }

  function openSession(socket: net.Socket): void {
    sockets.add(socket);
    const framer = new AmiFramer({ expectBanner: false, maxLineBytes: 1022, maxHeaders: 128 });
    const session: AmiSimSession = {
      id: nextId++,
      loggedIn: false,
      eventsOn: false,
      open: true,
      rawInput: '',
      send: (msg) => session.sendRaw(formatAmiMessage(msg)),
      sendRaw: (data) => {
        if (session.open) socket.write(data);
      },
      close: () => {
        session.open = false;
        socket.end();
      },
    };
    sessions.push(session);
    socket.on('data', (chunk: Buffer) => {
      if (session.rawInput.length < 1 << 20) session.rawInput += chunk.toString('latin1');
      for (const out of framer.push(chunk)) {
        if (!session.open) return;
        if (out.type === 'message') handleAction(session, out.message);
        else if (out.type === 'error') reply(session, undefined, 'Error', { Message: `Failed to parse message: ${out.detail}` });
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      session.open = false;
      sockets.delete(socket);
    });
    socket.write(`${opts.banner ?? 'Asterisk Call Manager/11.0.0'}\r\n`);
  }

  const server = net.createServer(openSession);
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
      closed = true;
      for (const wake of [...sleepers]) wake();
      dropConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    dropConnections,
    simulateRestart: (uptimeSeconds = 0) => {
      bootedAt = Date.now() - uptimeSeconds * 1000;
      dropConnections();
    },
    replay: (trace, o = {}) => replayTo(eventSessions, replayItems(trace), o.speed ?? opts.speed ?? Infinity),
    emitEvent: broadcast,
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
      queues = cloneQueueState(state);
    },
    setChannels: (items) => {
      channels = items;
    },
    setAnswerPings: (answer) => {
      answerPings = answer;
    },
  };
}

function withoutAction(a: AmiMessage): AmiMessage {
  const out: AmiMessage = {};
  for (const [k, v] of Object.entries(a)) if (k.toLowerCase() !== 'action') out[k] = v;
  return out;
}

function originateResponse(a: AmiMessage): AmiMessage {
  const actionId = header(a, 'ActionID');
  const callerId = header(a, 'CallerID') ?? '';
  const num = /<([^>]*)>/.exec(callerId)?.[1] ?? callerId;
  return {
    Event: 'OriginateResponse',
    Privilege: 'call,all',
    Timestamp: (Date.now() / 1000).toFixed(6),
    ...(actionId === undefined ? {} : { ActionID: actionId }),
    Response: 'Success',
    Channel: `${header(a, 'Channel') ?? ''}-00000001;1`,
    Context: header(a, 'Context') ?? '',
    Exten: header(a, 'Exten') ?? '',
    Reason: '4',
    Uniqueid: header(a, 'ChannelId') ?? `${Math.floor(Date.now() / 1000)}.1`,
    CallerIDNum: num || '<unknown>',
    CallerIDName: callerId.replace(/\s*<[^>]*>\s*$/, '').replace(/^"|"$/g, '') || '<unknown>',
  };
}

// ---- queue model: enough of app_queue for the bridge's actions, with Asterisk's reply texts ----

function cloneQueueState(state: SimQueueState | undefined): SimQueueState | undefined {
  return state && { params: state.params.map((p) => ({ ...p })), members: state.members.map((m) => ({ ...m })) };
}

function queueStatusItems(state: SimQueueState | undefined, queue?: string, member?: string): AmiMessage[] {
  const items: AmiMessage[] = [];
  for (const p of state?.params ?? []) {
    if (queue && p['Queue'] !== queue) continue;
    items.push({ Event: 'QueueParams', ...p });
    for (const m of state?.members ?? []) {
      if (m['Queue'] !== p['Queue'] || (member && m['Location'] !== member && m['Name'] !== member)) continue;
      items.push({ Event: 'QueueMember', ...m });
    }
  }
  return items;
}

function queueSummaryItems(state: SimQueueState | undefined, queue?: string): AmiMessage[] {
  return (state?.params ?? [])
    .filter((p) => !queue || p['Queue'] === queue)
    .map((p) => {
      const members = (state?.members ?? []).filter((m) => m['Queue'] === p['Queue']);
      // app_queue: logged in = not unavailable(5)/invalid(4); available = not in use(1) or unknown(0), and not paused.
      const loggedIn = members.filter((m) => m['Status'] !== '5' && m['Status'] !== '4');
      const available = loggedIn.filter((m) => (m['Status'] === '1' || m['Status'] === '0') && m['Paused'] !== '1');
      return {
        Event: 'QueueSummary',
        Queue: p['Queue'] ?? '',
        LoggedIn: String(loggedIn.length),
        Available: String(available.length),
        Callers: header(p, 'Calls') ?? '0',
        HoldTime: header(p, 'Holdtime') ?? '0',
        TalkTime: header(p, 'TalkTime') ?? '0',
        LongestHoldTime: '0',
      };
    });
}

type QueueChange = [success: boolean, message: string, events: AmiMessage[]];

function queueChange(state: SimQueueState | undefined, action: string, a: AmiMessage): QueueChange {
  const queue = header(a, 'Queue') || undefined;
  const iface = header(a, 'Interface') || undefined;
  const now = String(Math.floor(Date.now() / 1000));
  const targets = (state?.members ?? []).filter((m) => m['Location'] === iface && (!queue || m['Queue'] === queue));
  const queueKnown = (state?.params ?? []).some((p) => p['Queue'] === queue);
  switch (action) {
    case 'queuepause': {
      const pausedText = header(a, 'Paused');
      if (!iface || pausedText === undefined) return [false, "Need 'Interface' and 'Paused' parameters.", []];
      const paused = isTrue(pausedText);
      if (state && targets.length === 0) return [false, 'Interface not found', []];
      for (const m of targets) {
        m['Paused'] = paused ? '1' : '0';
        m['PausedReason'] = paused ? (header(a, 'Reason') ?? '') : '';
        if (paused) m['LastPause'] = now;
      }
      const message = paused ? 'Interface paused successfully' : 'Interface unpaused successfully';
      return [true, message, targets.map((m) => memberEvent('QueueMemberPause', m))];
    }
    case 'queuepenalty': {
      const penalty = Number.parseInt(header(a, 'Penalty') ?? '', 10);
      if (!iface || header(a, 'Penalty') === undefined) return [false, "Need 'Interface' and 'Penalty' parameters.", []];
      if (!(penalty >= 0) || (state && targets.length === 0)) return [false, 'Invalid interface, queuename or penalty', []];
      for (const m of targets) m['Penalty'] = String(penalty);
      return [true, 'Interface penalty set successfully', targets.map((m) => memberEvent('QueueMemberPenalty', m))];
    }
    case 'queueadd': {
      if (!queue) return [false, "'Queue' not specified.", []];
      if (!iface) return [false, "'Interface' not specified.", []];
      if (!state) return [true, 'Added interface to queue', []];
      if (!queueKnown) return [false, 'Unable to add interface to queue: No such queue', []];
      if (targets.length > 0) return [false, 'Unable to add interface: Already there', []];
      const paused = isTrue(header(a, 'Paused'));
      const member: AmiMessage = {
        Queue: queue,
        Name: header(a, 'MemberName') ?? iface,
        Location: iface,
        StateInterface: header(a, 'StateInterface') ?? iface,
        Membership: 'dynamic',
        Penalty: header(a, 'Penalty') ?? '0',
        CallsTaken: '0',
        LastCall: '0',
        LastPause: '0',
        LoginTime: now,
        InCall: '0',
        Status: '1',
        Paused: paused ? '1' : '0',
        PausedReason: paused ? (header(a, 'Reason') ?? '') : '',
        Wrapuptime: '0',
      };
      state.members.unshift(member); // the recorded Asterisk listed the new member first
      return [true, 'Added interface to queue', [memberEvent('QueueMemberAdded', member)]];
    }
    default: {
      if (!queue || !iface) return [false, "Need 'Queue' and 'Interface' parameters.", []];
      if (!state) return [true, 'Removed interface from queue', []];
      if (!queueKnown) return [false, 'Unable to remove interface from queue: No such queue', []];
      const member = targets[0];
      if (member === undefined) return [false, 'Unable to remove interface: Not there', []];
      if (member['Membership'] !== 'dynamic') return [false, 'Member not dynamic', []];
      state.members.splice(state.members.indexOf(member), 1);
      return [true, 'Removed interface from queue', [memberEvent('QueueMemberRemoved', member)]];
    }
  }
}

/** Queue member events name the member fields differently from QueueStatus (Interface vs Location). */
function memberEvent(event: string, m: AmiMessage): AmiMessage {
  const f = (k: string) => header(m, k) ?? '';
  return {
    Event: event,
    Privilege: 'agent,all',
    Timestamp: (Date.now() / 1000).toFixed(6),
    Queue: f('Queue'),
    MemberName: f('Name'),
    Interface: f('Location'),
    StateInterface: f('StateInterface'),
    Membership: f('Membership'),
    Penalty: f('Penalty'),
    CallsTaken: f('CallsTaken'),
    LastCall: f('LastCall'),
    LastPause: f('LastPause'),
    LoginTime: f('LoginTime'),
    InCall: f('InCall'),
    Status: f('Status'),
    Paused: f('Paused'),
    PausedReason: f('PausedReason'),
    Ringinuse: '0',
    Wrapuptime: f('Wrapuptime'),
  };
}
