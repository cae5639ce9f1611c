import { AmiActionError } from './client.js';

export type ActionHeaderValue = string | number | boolean | string[] | undefined;
export type ActionHeaders = Record<string, ActionHeaderValue>;

/** An action ready to be sent: `client.action(req.action, req.headers)`. */
export interface ActionRequest {
  action: string;
  headers: ActionHeaders;
}

/** Asterisk reads at most 1024 bytes per input line, CRLF included (main/manager.c, inbuf[1025]). */
export const AMI_MAX_LINE_BYTES = 1024;

const UNSAFE_CHARS = /[\r\n\0]/;
const RESERVED_KEYS = new Set(['action', 'actionid']);

/**
 * `Action: X\r\nActionID: id\r\nKey: Value\r\n...\r\n\r\n`. Array values repeat the key.
 * Throws AmiActionError UNSAFE_HEADER (and builds nothing) if a header could inject lines or be cut by Asterisk.
 * Error messages name the key, never the value: the value may be a secret.
 */
export function serializeAction(action: string, headers: ActionHeaders, actionId: string): string {
  const lines = [headerLine('Action', action, action), headerLine('ActionID', actionId, action)];
  for (const key of Object.keys(headers)) {
    const value = headers[key];
    if (value === undefined) continue;
    if (RESERVED_KEYS.has(key.toLowerCase())) unsafe(action, `header "${safeName(key)}" is set by the client itself`);
    if (Array.isArray(value)) {
      for (const item of value) lines.push(headerLine(key, item, action));
    } else {
      lines.push(headerLine(key, valueText(key, value, action), action));
    }
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

function headerLine(key: string, value: string, action: string): string {
  if (key.length === 0 || UNSAFE_CHARS.test(key) || key.includes(':')) unsafe(action, `header name "${safeName(key)}" is not allowed`);
  if (typeof value !== 'string') unsafe(action, `header "${key}" is not a string`);
  if (UNSAFE_CHARS.test(value)) unsafe(action, `header "${key}" value contains CR, LF or NUL`);
  const line = `${key}: ${value}`;
  // Cheap length test first; count UTF-8 bytes only when it could matter.
  if (line.length * 3 + 2 > AMI_MAX_LINE_BYTES && Buffer.byteLength(line, 'utf8') + 2 > AMI_MAX_LINE_BYTES) {
    unsafe(action, `header "${key}" line exceeds ${AMI_MAX_LINE_BYTES} bytes`);
  }
  return line;
}

function valueText(key: string, value: string | number | boolean, action: string): string {
  if (typeof value === 'number' && !Number.isFinite(value)) unsafe(action, `header "${key}" is not a finite number`);
  return String(value);
}

function unsafe(action: string, why: string): never {
  throw new AmiActionError('UNSAFE_HEADER', `refusing to send ${safeName(action)}: ${why}`, action);
}

/** Header names go into messages; keep control characters out of logs. */
function safeName(s: string): string {
  return JSON.stringify(s.slice(0, 60)).slice(1, -1);
}

// ---- builders (header order follows what the recorded client sent, see test/fixtures/ami/*.sent) ----

export function login(o: { username: string; secret: string; events?: string }): ActionRequest {
  // `Events:` (plural) is the header Asterisk reads; `Event:` is silently ignored.
  return { action: 'Login', headers: { Username: o.username, Secret: o.secret, Events: o.events ?? 'on' } };
}

export function logoff(): ActionRequest {
  return { action: 'Logoff', headers: {} };
}

export function ping(): ActionRequest {
  return { action: 'Ping', headers: {} };
}

export function filterAdd(filter: string): ActionRequest {
  return { action: 'Filter', headers: { Operation: 'Add', Filter: filter } };
}

export function queueStatus(o: { queue?: string; member?: string } = {}): ActionRequest {
  return { action: 'QueueStatus', headers: { Queue: o.queue, Member: o.member } };
}

export function queueSummary(o: { queue?: string } = {}): ActionRequest {
  return { action: 'QueueSummary', headers: { Queue: o.queue } };
}

export function queuePause(o: { queue?: string; interface: string; paused: boolean; reason?: string }): ActionRequest {
  return {
    action: 'QueuePause',
    headers: { Interface: o.interface, Queue: o.queue, Paused: o.paused, Reason: o.reason },
  };
}

export function queuePenalty(o: { queue?: string; interface: string; penalty: number }): ActionRequest {
  return { action: 'QueuePenalty', headers: { Interface: o.interface, Penalty: o.penalty, Queue: o.queue } };
}

export function queueAdd(o: {
  queue: string;
  interface: string;
  memberName?: string;
  penalty?: number;
  paused?: boolean;
  reason?: string;
}): ActionRequest {
  return {
    action: 'QueueAdd',
    headers: {
      Queue: o.queue,
      Interface: o.interface,
      MemberName: o.memberName,
      Penalty: o.penalty,
      Paused: o.paused,
      Reason: o.reason,
    },
  };
}

export function queueRemove(o: { queue: string; interface: string }): ActionRequest {
  return { action: 'QueueRemove', headers: { Queue: o.queue, Interface: o.interface } };
}

/** `Channel`: a channel name or a Uniqueid (Asterisk looks channels up by either). */
export function hangup(o: { channel: string; cause?: number }): ActionRequest {
  // Asterisk reads `/.../` as a regular expression that may hang up many channels: only one exact channel here.
  if (o.channel === '' || o.channel.startsWith('/')) unsafe('Hangup', 'the channel must be one exact name or Uniqueid');
  return { action: 'Hangup', headers: { Channel: o.channel, Cause: o.cause } };
}

export function coreShowChannels(): ActionRequest {
  return { action: 'CoreShowChannels', headers: {} };
}

export interface OriginateParams {
  channel: string;
  context: string;
  exten: string;
  priority: number | string;
  callerId?: string;
  /** Ring timeout in ms (Asterisk's `Timeout` is in ms). */
  timeoutMs?: number;
  /** One `Variable: name=value` header each; commas are refused because Asterisk splits on them. */
  variables?: Record<string, string>;
  channelId?: string;
  otherChannelId?: string;
  /** Only async originate is supported: a sync one blocks the action until answer. */
  async: true;
}

export function originate(o: OriginateParams): ActionRequest {
  return {
    action: 'Originate',
    headers: {
      Channel: o.channel,
      Context: o.context,
      Exten: o.exten,
      Priority: o.priority,
      CallerID: o.callerId,
      Timeout: o.timeoutMs,
      Async: o.async,
      Variable: originateVariables(o.variables),
      ChannelId: o.channelId,
      OtherChannelId: o.otherChannelId,
    },
  };
}

function originateVariables(vars: Record<string, string> | undefined): string[] | undefined {
  if (vars === undefined) return undefined;
  const out: string[] = [];
  for (const [name, value] of Object.entries(vars)) {
    if (name.length === 0 || name.includes('=') || name.includes(',')) {
      unsafe('Originate', `variable name "${safeName(name)}" is not allowed`);
    }
    if (value.includes(',')) unsafe('Originate', `variable "${safeName(name)}" value contains a comma`);
    out.push(`${name}=${value}`);
  }
  return out.length > 0 ? out : undefined;
}

const DIAL_TOKEN = /^[A-Za-z0-9+*#_./@-]+$/;

/** Phone numbers / extensions safe to put into a dial string or Exten (no `&`, `,`, `(`, `|`, spaces...). */
export function isSafeDialToken(s: string): boolean {
  return DIAL_TOKEN.test(s);
}
