import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { AmiClient } from '../../src/ami/client.js';
import type { AmiMessage } from '../../src/ami/types.js';
import type { CoreInput } from '../../src/core/events.js';
import { startAmiResync } from '../../src/daemon/ami-resync.js';
import { captureLogger } from '../support/logger.js';
import { traceMessages } from '../support/traces.js';
import { waitFor } from '../support/wait.js';

/**
 * The daemon's side of a resync: after a login it asks CoreShowChannels and QueueStatus (answered here with what
 * Asterisk answered in the recorded down_through_hangup.2 and restart_while_ringing.2) and gives the core one
 * `resync`, timed when the answers came, with the time it has been blind since.
 */

/** The items Asterisk sent for the action whose list opened with `message` in a recorded session. */
function recordedList(session: string, message: string): AmiMessage[] {
  const messages = traceMessages(session);
  const id = messages.find((m) => m['Message'] === message)?.['ActionID'];
  return messages.filter((m) => m['ActionID'] === id && m['Event'] !== undefined);
}

class FakeAmi extends EventEmitter {
  readonly asked: string[] = [];
  isConnected = true;
  constructor(private readonly answers: Record<string, AmiMessage[] | Error>) {
    super();
  }
  async action(name: string): Promise<{ response: AmiMessage; events: AmiMessage[] }> {
    this.asked.push(name);
    const answer = this.answers[name];
    if (answer === undefined || answer instanceof Error) throw answer ?? new Error(`no answer for ${name}`);
    return { response: { Response: 'Success', EventList: 'start' }, events: answer };
  }
}

function resyncWith(ami: FakeAmi, blindSince: number | undefined, logger = captureLogger().logger): { inputs: CoreInput[]; stop(): void } {
  const inputs: CoreInput[] = [];
  const resync = startAmiResync({
    ami: ami as unknown as AmiClient,
    runtime: { handleInput: (input: CoreInput) => void inputs.push(input) },
    tracker: { channelIds: () => ['1796615628.0', '1796615628.4'], activeCalls: 1 },
    clock: () => 1_796_615_637_500,
    logger,
    actionTimeoutMs: 1000,
    reconnect: { initialDelayMs: 10, maxDelayMs: 50 },
    blindSince,
  });
  ami.emit('connected', { banner: 'Asterisk Call Manager/11.0.0', amiVersion: '11.0.0' });
  return { inputs, stop: () => resync.stop() };
}

describe('the resync after a login', () => {
  it('gives the core the live channels with their state and bridge, the members\' last calls, and the blind time', async () => {
    const ami = new FakeAmi({
      CoreShowChannels: recordedList('restart_while_ringing.2', 'Channels will follow'),
      QueueStatus: recordedList('down_through_hangup.2', 'Queue status will follow'),
    });
    const { inputs, stop } = resyncWith(ami, 1_796_615_631_800);
    await waitFor(() => inputs.length === 1, 'the resync input');
    stop();
    expect(ami.asked).toEqual(['CoreShowChannels', 'QueueStatus']);
    const input = inputs[0] as Extract<CoreInput, { kind: 'resync' }>;
    expect(input).toMatchObject({ kind: 'resync', at: 1_796_615_637_500, blindSince: 1_796_615_631_800, known: ['1796615628.0', '1796615628.4'] });
    // The customer's and 102's channels are up and share one bridge; the Local halves behind them are in none.
    expect(input.live.map((c) => [c.name, c.up, c.bridgeId])).toEqual([
      ['Local/102@agents-00000002;2', true, ''],
      ['Local/102@agents-00000002;1', true, '55ee0b97-6ba9-4df0-80d9-cd7c8df68520'],
      ['Local/5557001@customer-phone-00000000;2', true, ''],
      ['Local/5557001@customer-phone-00000000;1', true, '55ee0b97-6ba9-4df0-80d9-cd7c8df68520'],
    ]);
    // Only 102 took a call since Asterisk started (LastCall 0 is "never").
    expect(input.lastCalls).toEqual([{ queue: 'support', iface: 'Local/102@agents/n', endedAt: 1_796_615_634_000 }]);
  });

  it('still resyncs when QueueStatus fails, without that evidence, and says so', async () => {
    const log = captureLogger();
    const ami = new FakeAmi({ CoreShowChannels: [], QueueStatus: new Error('Permission denied') });
    const { inputs, stop } = resyncWith(ami, undefined, log.logger);
    await waitFor(() => inputs.length === 1, 'the resync input');
    stop();
    expect(inputs[0]).toEqual({ kind: 'resync', at: 1_796_615_637_500, live: [], known: ['1796615628.0', '1796615628.4'], lastCalls: [] });
    expect(log.lines()).toContainEqual(expect.objectContaining({ msg: expect.stringContaining('QueueStatus failed during the resync') }));
  });
});
