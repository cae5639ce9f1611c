import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';

/**
 * Drives the parser of the npm package asterisk-manager (0.2.0, lib/ami.js) without a socket.
 *
 * Its parser, `ManagerReader(context, data)`, is not exported: `ManagerConnect` binds it as the 'data' listener of
 * the socket it gets from `require('net').createConnection`. So, only while connecting, createConnection is swapped
 * for a stand-in EventEmitter; emitting 'data' on it then runs the package's own, unmodified parser.
 * The package's 'rawevent' listener (ManagerEvent: two process.nextTick emits per event) is replaced by a counter:
 * what is timed is the bare parse, bytes -> one object per message.
 */

interface Manager {
  connect(port: number, host: string, callback?: () => void): void;
  on(event: string, listener: (e: Record<string, unknown>) => void): void;
  removeAllListeners(event: string): void;
}
type ManagerFactory = (port?: number, host?: string, username?: string, password?: string, events?: boolean) => Manager;

const require = createRequire(import.meta.url);

class FakeSocket extends EventEmitter {
  readyState = 'open';
  setKeepAlive(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setEncoding(): this {
    // A real socket would now hand over strings; the parser calls String(data) on what it gets, so Buffers are
    // decoded as UTF-8 inside the timed region, just as our framer decodes its chunks.
    return this;
  }
  write(): boolean {
    return true;
  }
  end(): void {}
}

export interface AsteriskManagerParser {
  /** Feeds one chunk as a socket 'data' event. */
  push(chunk: Buffer): void;
  /** Messages parsed so far with an `event` key (its keys are lower-cased), and in all. */
  readonly events: number;
  readonly messages: number;
}

export function asteriskManagerParser(): AsteriskManagerParser {
  const net = require('net') as { createConnection: (...args: unknown[]) => unknown };
  const Manager = require('asterisk-manager') as ManagerFactory;
  const socket = new FakeSocket();
  const original = net.createConnection;
  const manager = Manager();
  net.createConnection = () => socket;
  try {
    manager.connect(1, 'in-process');
  } finally {
    net.createConnection = original;
  }
  manager.removeAllListeners('rawevent');
  const counts = { events: 0, messages: 0 };
  manager.on('rawevent', (e) => {
    counts.messages++;
    if (e['event'] !== undefined) counts.events++;
  });
  return {
    push: (chunk) => void socket.emit('data', chunk),
    get events() {
      return counts.events;
    },
    get messages() {
      return counts.messages;
    },
  };
}
