import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { summarizeTrace } from './trace-summary.js';

/**
 * A TCP proxy between an AMI client (the daemon, or a scripted observer) and Asterisk that keeps, per client
 * connection, the exact bytes each side sent: Asterisk's banner, responses and events with their `\r\n` framing,
 * and the client's actions. Saved in test/fixtures/ami's format: `<name>.ami` (what Asterisk sent), `<name>.sent`
 * (what the client sent), `<name>.txt` (a readable summary). The Nth connection after the first (a reconnect, a
 * daemon restart) is `<name>.<N+1>.ami` etc.: a kill -9 and restart gives `<name>.ami` and `<name>.2.ami`.
 */

export interface RecordedConnection {
  /** Date.now() at accept. */
  readonly openedAt: number;
  readonly fromServer: Buffer[];
  readonly fromClient: Buffer[];
  closed: boolean;
}

export interface AmiRecorder {
  readonly port: number;
  readonly connections: RecordedConnection[];
  /** Writes every connection's files into `dir`; returns the file names written. */
  save(dir: string, name: string, description: string): string[];
  close(): Promise<void>;
}

export async function startAmiRecorder(upstreamPort: number, upstreamHost = '127.0.0.1'): Promise<AmiRecorder> {
  const connections: RecordedConnection[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const conn: RecordedConnection = { openedAt: Date.now(), fromServer: [], fromClient: [], closed: false };
    connections.push(conn);
    const upstream = net.connect(upstreamPort, upstreamHost);
    for (const s of [client, upstream]) sockets.add(s);
    upstream.on('data', (d: Buffer) => {
      conn.fromServer.push(Buffer.from(d));
      client.write(d);
    });
    client.on('data', (d: Buffer) => {
      conn.fromClient.push(Buffer.from(d));
      upstream.write(d);
    });
    // A client that dies (kill -9: its socket is reset) takes its Asterisk session with it, and the other way round.
    const end = (): void => {
      conn.closed = true;
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const s of [client, upstream]) {
      s.on('close', end);
      s.on('error', end);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    connections,
    save(dir, name, description) {
      const written: string[] = [];
      connections.forEach((c, i) => {
        const base = i === 0 ? name : `${name}.${i + 1}`;
        const ami = Buffer.concat(c.fromServer);
        writeFileSync(join(dir, `${base}.ami`), ami);
        writeFileSync(join(dir, `${base}.sent`), Buffer.concat(c.fromClient));
        const header = `Scenario: ${name}${i === 0 ? '' : ` (connection ${i + 1} of ${connections.length})`}\n${description}`;
        writeFileSync(join(dir, `${base}.txt`), summarizeTrace(ami, `${base}.ami`, header, c.openedAt));
        written.push(`${base}.ami`, `${base}.sent`, `${base}.txt`);
      });
      return written;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
