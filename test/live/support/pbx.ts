import { AmiConnection } from '../../../src/ami/connection.js';
import type { ActionHeaders } from '../../../src/ami/actions.js';
import type { AmiResponse } from '../../../src/ami/client.js';
import type { AmiMessage } from '../../../src/ami/types.js';
import { waitFor, waitForAsync } from '../../support/wait.js';
import { DRIVER_AMI } from './asterisk.js';

/**
 * The test's hands on the PBX: an AMI session of its own (user `driver`) that scripts the phones through AstDB
 * (`agent/<ext>`, `customer/<number>`, see test/live/asterisk/extensions.conf), places customer calls into
 * queues, transfers, restarts Asterisk, and keeps every event it saw for the test to wait on.
 */

export type AgentBehaviour = 'noanswer' | 'busy' | 'congestion' | `answer${string}`;

export interface SeenEvent {
  at: number;
  msg: AmiMessage;
}

export class PbxDriver {
  readonly events: SeenEvent[] = [];
  private readonly ami: AmiConnection;

  constructor(port: number, host = '127.0.0.1') {
    this.ami = new AmiConnection({
      host,
      port,
      ...DRIVER_AMI,
      pingIntervalMs: 0,
      actionTimeoutMs: 10_000,
      reconnect: { initialDelayMs: 200, maxDelayMs: 500 },
      actionIdPrefix: 'driver-',
    });
    this.ami.on('event', (msg) => this.events.push({ at: Date.now(), msg }));
  }

  connect(): Promise<void> {
    return this.ami.connect();
  }

  get connected(): boolean {
    return this.ami.isConnected;
  }

  close(): Promise<void> {
    return this.ami.close();
  }

  action(name: string, headers: ActionHeaders = {}, timeoutMs = 10_000): Promise<AmiResponse> {
    return this.ami.action(name, headers, { timeoutMs });
  }

  /** How the agent's phone behaves on its next rings (answer[-after-N][:talk], noanswer, busy, congestion). */
  async agents(behaviours: Record<string, AgentBehaviour>): Promise<void> {
    for (const [ext, val] of Object.entries(behaviours)) await this.action('DBPut', { Family: 'agent', Key: ext, Val: val });
  }

  async customer(number: string, behaviour: string): Promise<void> {
    await this.action('DBPut', { Family: 'customer', Key: number, Val: behaviour });
  }

  /** A customer calls queue `queue` (or an agent's extension) through [incoming]; variables: QTIMEOUT, RECORD, QOPTS. */
  async call(number: string, target: string, variables: Record<string, string> = {}): Promise<void> {
    const variable = Object.entries(variables).map(([k, v]) => `${k}=${v}`);
    await this.action('Originate', {
      Channel: `Local/${number}@customer-phone/n`,
      Context: 'incoming',
      Exten: target,
      Priority: 1,
      CallerID: `Customer <${number}>`,
      Timeout: 30_000,
      Async: 'true',
      ...(variable.length > 0 ? { Variable: variable } : {}),
    });
  }

  /** A marker in the event stream (and in recorded traces): `UserEvent: ScenarioPhase`. */
  async phase(text: string): Promise<void> {
    await this.action('UserEvent', { UserEvent: 'ScenarioPhase', Phase: text });
  }

  async pause(queue: string, iface: string, paused: boolean, reason?: string): Promise<void> {
    await this.action('QueuePause', { Queue: queue, Interface: iface, Paused: paused ? 'true' : 'false', ...(reason ? { Reason: reason } : {}) });
  }

  /** One member's QueueMember item (Paused, PausedReason, Penalty, LastCall, CallsTaken...). */
  async member(queue: string, iface: string): Promise<AmiMessage | undefined> {
    const { events } = await this.action('QueueStatus', { Queue: queue, Member: iface });
    return events.find((e) => e['Event'] === 'QueueMember' && e['Location'] === iface);
  }

  async command(command: string): Promise<string> {
    const { response } = await this.action('Command', { Command: command });
    const out = response['Output'];
    return Array.isArray(out) ? out.join('\n') : (out ?? '');
  }

  /** The first event seen since `from` (an index into `events`) that matches, waited for. */
  async waitEvent(what: string, match: (m: AmiMessage) => boolean, timeoutMs = 20_000, from = 0): Promise<AmiMessage> {
    const found = await waitFor(() => this.events.slice(from).find((e) => match(e.msg)), what, timeoutMs);
    return found.msg;
  }

  /** Events seen so far (a mark to wait from). */
  mark(): number {
    return this.events.length;
  }

  /** The channel of `ext` a queue or Dial() bridged with the caller (`Local/102@agents-0000001f;1`). */
  async answeredBy(ext: string, from = 0, timeoutMs = 20_000): Promise<string> {
    const e = await this.waitEvent(
      `${ext} to answer`,
      (m) => (m['Event'] === 'AgentConnect' || (m['Event'] === 'DialEnd' && m['DialStatus'] === 'ANSWER')) && isAgentLeg(String(m['DestChannel'] ?? ''), ext),
      timeoutMs,
      from,
    );
    return String(e['DestChannel']);
  }

  /** Resolves when no channel is left (every call of the test is over). */
  async idle(timeoutMs = 30_000): Promise<void> {
    await waitForAsync(
      async () => {
        const { events } = await this.action('CoreShowChannels');
        const left = events.filter((e) => e['Event'] === 'CoreShowChannel').map((e) => e['Channel']);
        if (left.length > 0) throw new Error(`channels still up: ${left.join(', ')}`);
        return true;
      },
      'every channel to hang up',
      timeoutMs,
      200,
    );
  }
}

/** The ;1 half of `Local/<ext>@agents` (the side a queue or Dial() bridges). */
export function isAgentLeg(channel: string, ext: string): boolean {
  return channel.startsWith(`Local/${ext}@agents-`) && channel.endsWith(';1');
}
