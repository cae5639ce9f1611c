import net from 'node:net';
import { AmiConnection } from '../../../src/ami/connection.js';
import type { AmiMessage } from '../../../src/ami/types.js';
import { DRIVER_AMI } from './asterisk.js';

/**
 * A scripted AMI client standing where the daemon stands (through the recorder), for recording traces: it logs in
 * like the daemon (`Events: on`, no filter, so the trace keeps every event), may act on events (the ring-back fix
 * as it was), can die like a killed process (the socket reset, no Logoff) and, when it comes back, asks what the
 * daemon asks after a login: CoreShowChannels, then QueueStatus.
 */
export class Observer {
  readonly events: AmiMessage[] = [];
  private socket: net.Socket | undefined;
  private readonly ami: AmiConnection;

  constructor(port: number, onEvent?: (msg: AmiMessage, ami: AmiConnection) => void) {
    this.ami = new AmiConnection({
      host: '127.0.0.1',
      port,
      ...DRIVER_AMI,
      pingIntervalMs: 0,
      actionIdPrefix: 'observer-',
      reconnect: { initialDelayMs: 60_000 },
      createSocket: (host, p) => (this.socket = net.connect(p, host)),
    });
    this.ami.on('event', (msg) => {
      this.events.push(msg);
      onEvent?.(msg, this.ami);
    });
  }

  connect(): Promise<void> {
    return this.ami.connect();
  }

  /** What the daemon asks right after a login. */
  async resync(): Promise<void> {
    await this.ami.action('CoreShowChannels');
    await this.ami.action('QueueStatus');
  }

  action(name: string, headers: Record<string, string> = {}): Promise<unknown> {
    return this.ami.action(name, headers);
  }

  /** As kill -9 would: the socket is reset, nothing more is sent. */
  async kill(): Promise<void> {
    this.socket?.resetAndDestroy();
    await this.ami.close();
  }

  /** An orderly end (Logoff). */
  close(): Promise<void> {
    return this.ami.close();
  }
}
