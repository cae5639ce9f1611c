import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { startAmiSimulator, type AmiSimulator } from '../../src/sim/ami-simulator.js';
import { sleep, waitFor } from '../support/wait.js';

/**
 * Evidence for two claims of docs/reference/asterisk-ami.md#node-ami-libraries about the npm package `asterisk-manager`
 * (0.2.0, lib/ami.js), checked by running it against our simulator rather than by reading its source:
 * (a) its Login writes `Event: on|off` where Asterisk reads `Events:`, so `events=false` asks for nothing;
 * (b) its action callback fires on the Response only: list items have to be gathered by the caller.
 */

type ManagerEvent = Record<string, unknown>;
interface AsteriskManager {
  on(event: string, listener: (e: ManagerEvent) => void): void;
  action(action: Record<string, string>, callback: (err: ManagerEvent | undefined, res: ManagerEvent) => void): string;
  disconnect(): void;
  isConnected(): boolean;
}
type ManagerFactory = (port: number, host: string, username: string, password: string, events: boolean) => AsteriskManager;

const require = createRequire(import.meta.url);
const Manager = require('asterisk-manager') as ManagerFactory;

const SECRET = 'evidence-secret';
const queueState = {
  params: [{ Event: 'QueueParams', Queue: 'support', Max: '0', Strategy: 'ringall', Calls: '0', Holdtime: '1', TalkTime: '4' }],
  members: ['101', '102'].map((ext) => ({
    Event: 'QueueMember',
    Queue: 'support',
    Name: `Agent ${ext}`,
    Location: `Local/${ext}@agents/n`,
    Membership: 'static',
    Penalty: '0',
    Status: '1',
    Paused: '0',
    PausedReason: '',
  })),
};

let sim: AmiSimulator | undefined;
let ami: AsteriskManager | undefined;
afterEach(async () => {
  ami?.disconnect();
  await sim?.close();
  ami = undefined;
  sim = undefined;
});

describe('asterisk-manager 0.2.0 (evidence for the reference notes)', () => {
  it('sends "Event: off" instead of "Events: off" at login, so asking for no events still gets them', async () => {
    sim = await startAmiSimulator({ username: 'bridge', secret: SECRET });
    const events: ManagerEvent[] = [];
    ami = Manager(sim.port, '127.0.0.1', 'bridge', SECRET, false);
    ami.on('managerevent', (e) => events.push(e));

    const loginAction = await sim.waitForAction('Login');
    const raw = sim.sessions[0]?.rawInput ?? '';
    expect(raw).toMatch(/^Event: off\r$/m);
    expect(raw).not.toMatch(/^Events:/im);
    expect(loginAction['Event']).toBe('off');
    expect(loginAction['Events']).toBeUndefined();

    // Without an Events header, Asterisk (and the simulator) gives the session every event its read= allows.
    sim.emitEvent({ Event: 'QueueCallerJoin', Privilege: 'agent,all', Queue: 'support' });
    await waitFor(() => events.find((e) => e['event'] === 'QueueCallerJoin'), 'the QueueCallerJoin event');
    expect(events.some((e) => e['event'] === 'FullyBooted')).toBe(true);
  });

  it('calls the action callback on the Response alone and leaves the EventList items to managerevent', async () => {
    sim = await startAmiSimulator({ username: 'bridge', secret: SECRET, queueState });
    const events: ManagerEvent[] = [];
    const callbacks: { err: ManagerEvent | undefined; res: ManagerEvent }[] = [];
    ami = Manager(sim.port, '127.0.0.1', 'bridge', SECRET, true);
    ami.on('managerevent', (e) => events.push(e));
    await sim.waitForAction('Login');

    const id = ami.action({ action: 'QueueStatus', queue: 'support' }, (err, res) => callbacks.push({ err, res }));
    await waitFor(() => events.find((e) => e['event'] === 'QueueStatusComplete' && e['actionid'] === id), 'the QueueStatusComplete event');
    await sleep(100); // room for a (wrong) second callback

    expect(callbacks).toHaveLength(1);
    const { err, res } = callbacks[0] ?? { err: undefined, res: {} };
    expect(err).toBeUndefined();
    expect(res).toEqual({ response: 'Success', actionid: id, eventlist: 'start', message: 'Queue status will follow' });
    const listItems = events.filter((e) => e['actionid'] === id).map((e) => e['event']);
    expect(listItems).toEqual(['QueueParams', 'QueueMember', 'QueueMember', 'QueueStatusComplete']);
  });
});
