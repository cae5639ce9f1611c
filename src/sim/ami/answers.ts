import type { AmiMessage } from '../../ami/types.js';
import type { LiveChannels } from './live-channels.js';
import { header } from './messages.js';
import { queueChange, queueStatusItems, queueSummaryItems, type SimQueueState } from './queue-state.js';
import type { AmiSimSession } from './session.js';

/** Custom answers; return undefined to fall back to the built-in behaviour. */
export type OnAction = (action: AmiMessage, session: AmiSimSession) => AmiMessage[] | undefined;

/** The simulated Asterisk that actions read and change. */
export interface SimPbx {
  readonly username: string;
  readonly secret: string;
  readonly onAction: OnAction | undefined;
  /** false = swallow Ping actions, like a hung Asterisk. */
  answerPings: boolean;
  /** Wall-clock ms of the simulated boot: FullyBooted's Uptime counts from here. */
  bootedAt: number;
  readonly asteriskVersion: string;
  /** Without it queue actions always succeed and lists are empty; with it they act on this state. */
  queues: SimQueueState | undefined;
  /** Fixed items for CoreShowChannels / Status; without them, the live channels. */
  channels: AmiMessage[] | undefined;
  readonly live: LiveChannels;
  /** To every session that takes events. */
  broadcast(msg: AmiMessage): void;
  /** A session logged in with events on and got its FullyBooted. */
  afterLogin(session: AmiSimSession): void;
}

/** List actions: reply text, item event name, completion event name. */
const LISTS: Record<string, [string, string, string]> = {
  queuestatus: ['Queue status will follow', '', 'QueueStatusComplete'],
  queuesummary: ['Queue summary will follow', 'QueueSummary', 'QueueSummaryComplete'],
  coreshowchannels: ['Channels will follow', 'CoreShowChannel', 'CoreShowChannelsComplete'],
  status: ['Channel status will follow', 'Status', 'StatusComplete'],
};

/** Answers one action the way Asterisk 22 does, with its own reply texts. */
export function answerAction(pbx: SimPbx, s: AmiSimSession, a: AmiMessage): void {
  const custom = pbx.onAction?.(a, s);
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
      if (header(a, 'Username') !== pbx.username || header(a, 'Secret') !== pbx.secret) {
        error('Authentication failed');
        return s.close(); // like Asterisk: refuse and hang up
      }
      s.loggedIn = true;
      const events = (header(a, 'Events') ?? 'on').toLowerCase();
      s.eventsOn = events !== 'off' && events !== '0';
      ok('Authentication accepted');
      if (s.eventsOn) {
        const uptime = String(Math.floor((Date.now() - pbx.bootedAt) / 1000));
        s.send({ Event: 'FullyBooted', Privilege: 'system,all', Uptime: uptime, LastReload: uptime, Status: 'Fully Booted' });
        pbx.afterLogin(s);
      }
      return;
    }
    case 'logoff':
      reply(s, actionId, 'Goodbye', { Message: 'Thanks for all the fish.' });
      return s.close();
    case 'ping':
      if (pbx.answerPings) reply(s, actionId, 'Success', { Ping: 'Pong', Timestamp: (Date.now() / 1000).toFixed(6) });
      return;
    case 'filter':
      return ok('Success');
    case 'coresettings':
      // The fields of manager.c's action_coresettings, in its order.
      return reply(s, actionId, 'Success', {
        AMIversion: '11.0.0',
        AsteriskVersion: pbx.asteriskVersion,
        SystemName: '',
        CoreMaxCalls: '0',
        CoreMaxLoadAvg: '0.000000',
        CoreRunUser: '',
        CoreRunGroup: '',
        CoreMaxFilehandles: '0',
        CoreRealTimeEnabled: 'No',
        CoreCDRenabled: 'Yes',
        CoreHTTPenabled: 'No',
        SoundsSearchCustomDir: 'No',
      });
    case 'userevent':
      ok('Event Sent');
      return pbx.broadcast({ Event: 'UserEvent', Privilege: 'user,all', ...withoutAction(a) });
    case 'originate':
      ok('Originate successfully queued');
      return pbx.broadcast(originateResponse(a));
    case 'queuestatus':
      return sendList(s, actionId, name, queueStatusItems(pbx.queues, header(a, 'Queue'), header(a, 'Member')));
    case 'queuesummary':
      return sendList(s, actionId, name, queueSummaryItems(pbx.queues, header(a, 'Queue')));
    case 'coreshowchannels':
    case 'status':
      return sendList(s, actionId, name, pbx.channels ?? pbx.live.items());
    case 'queuepause':
    case 'queuepenalty':
    case 'queueadd':
    case 'queueremove': {
      const [success, message, events] = queueChange(pbx.queues, name, a);
      if (success) ok(message);
      else error(message);
      return events.forEach((e) => pbx.broadcast(e));
    }
    default:
      return error(`Invalid/unknown command: ${header(a, 'Action')}. Use Action: ListCommands to show available commands.`);
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
