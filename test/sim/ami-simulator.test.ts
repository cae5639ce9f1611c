import { readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { AmiFramer } from '../../src/ami/framer.js';
import { field, type AmiMessage } from '../../src/ami/types.js';
import { startAmiSimulator, traceEventsForReplay, type AmiSimulator } from '../../src/sim/ami-simulator.js';
import { waitFor } from '../support/wait.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/ami/', import.meta.url));
const QUEUE_TRACE = readFileSync(`${FIXTURES}queue_actions.ami`);
const QUEUE_SENT = readFileSync(`${FIXTURES}queue_actions.sent`);

function parse(buf: Buffer): AmiMessage[] {
  return new AmiFramer().push(buf).flatMap((o) => (o.type === 'message' ? [o.message] : []));
}

const recorded = parse(QUEUE_TRACE);
const recordedResponse = (id: string) => recorded.find((m) => m['Response'] !== undefined && m['ActionID'] === id);
const recordedList = (id: string) => recorded.filter((m) => m['Event'] !== undefined && m['ActionID'] === id);
const withoutActionId = (m: AmiMessage): AmiMessage => {
  const { ActionID: _drop, ...rest } = m;
  return rest;
};

/** The queue state Asterisk had at the start of the recording: the items of its first QueueStatus. */
function recordedQueueState() {
  const items = recordedList('queue_actions-3').map(withoutActionId);
  return {
    params: items.filter((m) => m['Event'] === 'QueueParams'),
    members: items.filter((m) => m['Event'] === 'QueueMember'),
  };
}

/** A bare TCP client that records everything the simulator says. */
async function rawClient(port: number) {
  const socket = net.connect({ host: '127.0.0.1', port });
  const framer = new AmiFramer();
  const messages: AmiMessage[] = [];
  let banner = '';
  let closed = false;
  socket.on('data', (chunk) => {
    for (const o of framer.push(chunk)) {
      if (o.type === 'banner') banner = o.text;
      if (o.type === 'message') messages.push(o.message);
    }
  });
  socket.on('close', () => (closed = true));
  await new Promise((r) => socket.once('connect', r));
  return {
    socket,
    messages,
    banner: () => banner,
    closed: () => closed,
    response: (id: string) => waitFor(() => messages.find((m) => m['Response'] !== undefined && m['ActionID'] === id), `the response to action ${id}`),
  };
}

let sim: AmiSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe('AMI simulator', () => {
  it('answers the recorded queue actions with the same Response and Message texts as Asterisk 22', async () => {
    sim = await startAmiSimulator({ username: 'bridge', secret: 'secret', queueState: recordedQueueState() });
    const client = await rawClient(sim.port);
    client.socket.write(QUEUE_SENT); // the exact bytes the recording client sent, all at once
    await client.response('queue_actions-21');
    expect(client.banner()).toBe('Asterisk Call Manager/11.0.0');

    const simulated = ['Login', 'UserEvent', 'QueueStatus', 'QueuePause', 'QueueSummary', 'QueueAdd', 'QueuePenalty', 'QueueRemove', 'CoreShowChannels', 'Logoff'];
    const actions = parse(Buffer.concat([Buffer.from('Asterisk Call Manager/x\r\n'), QUEUE_SENT]));
    const checked = actions.filter((a) => simulated.includes(field(a, 'Action') ?? ''));
    expect(checked).toHaveLength(17);
    for (const a of checked) {
      const id = field(a, 'ActionID') ?? '';
      const got = client.messages.find((m) => m['Response'] !== undefined && m['ActionID'] === id);
      const want = recordedResponse(id);
      expect({ id, Response: got?.['Response'], Message: got?.['Message'], EventList: got?.['EventList'] }).toEqual({
        id,
        Response: want?.['Response'],
        Message: want?.['Message'],
        EventList: want?.['EventList'],
      });
    }
  });

  it('lists queue state like the recorded QueueStatus and QueueSummary, following pauses, adds and penalties', async () => {
    sim = await startAmiSimulator({ username: 'bridge', secret: 'secret', queueState: recordedQueueState() });
    const client = await rawClient(sim.port);
    client.socket.write(QUEUE_SENT);
    await client.response('queue_actions-21');
    const simList = (id: string) => client.messages.filter((m) => m['Event'] !== undefined && m['ActionID'] === id);
    const shape = (m: AmiMessage) => ({
      Event: m['Event'],
      Name: m['Name'],
      Paused: m['Paused'],
      PausedReason: m['PausedReason'],
      Penalty: m['Penalty'],
      Membership: m['Membership'],
      ListItems: m['ListItems'],
      EventList: m['EventList'],
    });
    expect(simList('queue_actions-3')).toEqual(recordedList('queue_actions-3'));
    for (const id of ['queue_actions-5', 'queue_actions-11', 'queue_actions-19']) {
      expect(simList(id).map(shape)).toEqual(recordedList(id).map(shape));
    }
    expect(simList('queue_actions-8')).toEqual(recordedList('queue_actions-8'));
  });

  it('sends FullyBooted after login, answers Ping with Pong and unknown actions with Asterisk\'s error', async () => {
    sim = await startAmiSimulator({ username: 'u', secret: 's', uptimeSeconds: 321 });
    const client = await rawClient(sim.port);
    client.socket.write('Action: Login\r\nActionID: 1\r\nUsername: u\r\nSecret: s\r\n\r\n');
    await client.response('1');
    const booted = await waitFor(() => client.messages.find((m) => m['Event'] === 'FullyBooted'), 'the FullyBooted event');
    expect(booted).toMatchObject({ Privilege: 'system,all', Uptime: '321', Status: 'Fully Booted' });
    client.socket.write('Action: Ping\r\nActionID: 2\r\n\r\nAction: Frobnicate\r\nActionID: 3\r\n\r\n');
    expect(await client.response('2')).toMatchObject({ Response: 'Success', Ping: 'Pong' });
    expect((await client.response('3'))['Message']).toBe(
      'Invalid/unknown command: Frobnicate. Use Action: ListCommands to show available commands.',
    );
    expect(sim.received.map((a) => a['Action'])).toEqual(['Login', 'Ping', 'Frobnicate']);
  });

  it('refuses a wrong secret with "Authentication failed" and hangs up, like Asterisk', async () => {
    sim = await startAmiSimulator({ username: 'u', secret: 's' });
    const client = await rawClient(sim.port);
    client.socket.write('Action: Login\r\nActionID: 1\r\nUsername: u\r\nSecret: nope\r\n\r\n');
    expect(await client.response('1')).toMatchObject({ Response: 'Error', Message: 'Authentication failed' });
    await waitFor(() => client.closed(), 'the connection to close');
  });

  it('answers Logoff with Goodbye and closes', async () => {
    sim = await startAmiSimulator({ username: 'u', secret: 's' });
    const client = await rawClient(sim.port);
    client.socket.write('Action: Login\r\nActionID: 1\r\nUsername: u\r\nSecret: s\r\n\r\nAction: Logoff\r\nActionID: 2\r\n\r\n');
    expect(await client.response('2')).toMatchObject({ Response: 'Goodbye', Message: 'Thanks for all the fish.' });
    await waitFor(() => client.closed(), 'the connection to close');
  });

  it('queues an Originate and then reports OriginateResponse answered (Reason 4)', async () => {
    sim = await startAmiSimulator({ username: 'u', secret: 's' });
    const client = await rawClient(sim.port);
    client.socket.write('Action: Login\r\nActionID: 1\r\nUsername: u\r\nSecret: s\r\n\r\n');
    client.socket.write(
      'Action: Originate\r\nActionID: 2\r\nChannel: PJSIP/101\r\nContext: c2c\r\nExten: 555\r\nPriority: 1\r\nCallerID: Bob <555>\r\nAsync: true\r\nChannelId: c2c-1\r\n\r\n',
    );
    expect((await client.response('2'))['Message']).toBe('Originate successfully queued');
    const done = await waitFor(() => client.messages.find((m) => m['Event'] === 'OriginateResponse'), 'the OriginateResponse event');
    expect(done).toMatchObject({ ActionID: '2', Response: 'Success', Reason: '4', Uniqueid: 'c2c-1', Exten: '555' });
  });

  it('replays a trace in order at a given speed, with the exact recorded bytes', async () => {
    const trace = readFileSync(`${FIXTURES}click_to_call.ami`);
    sim = await startAmiSimulator({ username: 'u', secret: 's' });
    const client = await rawClient(sim.port);
    client.socket.write('Action: Login\r\nActionID: 1\r\nUsername: u\r\nSecret: s\r\n\r\n');
    await client.response('1');
    await sim.replay(trace, { speed: 200 });
    const expected = traceEventsForReplay(trace);
    const got = await waitFor(() => {
      const events = client.messages.filter((m) => m['Event'] !== undefined && m['Event'] !== 'FullyBooted');
      return events.length >= expected.length ? events : undefined;
    }, 'every event of the trace');
    expect(got).toEqual(expected);
  });

  it('replays a stream with no recorded login answer whole, OriginateResponse events included', async () => {
    const events = [
      'Event: Newchannel\r\nPrivilege: call,all\r\nChannel: PJSIP/101-00000001\r\nUniqueid: 1.1\r\nLinkedid: 1.1\r\n\r\n',
      'Event: OriginateResponse\r\nPrivilege: call,all\r\nActionID: 7\r\nResponse: Success\r\nChannel: PJSIP/101\r\nReason: 4\r\nUniqueid: 1.1\r\n\r\n',
      'Event: Hangup\r\nPrivilege: call,all\r\nChannel: PJSIP/101-00000001\r\nUniqueid: 1.1\r\nLinkedid: 1.1\r\nCause: 16\r\n\r\n',
    ];
    sim = await startAmiSimulator({ username: 'u', secret: 's' });
    const client = await rawClient(sim.port);
    client.socket.write('Action: Login\r\nActionID: 1\r\nUsername: u\r\nSecret: s\r\n\r\n');
    await client.response('1');
    await sim.replay(events.join(''));
    const got = await waitFor(() => {
      const seen = client.messages.filter((m) => m['Event'] !== undefined && m['Event'] !== 'FullyBooted');
      return seen.length >= 3 ? seen : undefined;
    }, 'the three events');
    expect(got.map((m) => m['Event'])).toEqual(['Newchannel', 'OriginateResponse', 'Hangup']);
  });
});
