import type net from 'node:net';
import { AmiFramer } from '../../ami/framer.js';
import type { AmiMessage } from '../../ami/types.js';
import { formatAmiMessage } from './messages.js';

/** One client connection to the simulator, as an Asterisk manager session sees it. */
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

/** Greets a new client with `banner` and hands each action it sends to `onAction`; a broken frame gets Asterisk's error. */
export function openSession(
  socket: net.Socket,
  id: number,
  banner: string,
  onAction: (session: AmiSimSession, action: AmiMessage) => void,
): AmiSimSession {
  // Asterisk's limits on client input (main/manager.c: a 1024-byte inbuf for a line and its CR LF; AST_MAX_MANHEADERS 128).
  const framer = new AmiFramer({ expectBanner: false, maxLineBytes: 1022, maxHeaders: 128 });
  const session: AmiSimSession = {
    id,
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
  socket.on('data', (chunk: Buffer) => {
    if (session.rawInput.length < 1 << 20) session.rawInput += chunk.toString('latin1');
    for (const out of framer.push(chunk)) {
      if (!session.open) return;
      if (out.type === 'message') onAction(session, out.message);
      else if (out.type === 'error') session.send({ Response: 'Error', Message: `Failed to parse message: ${out.detail}` });
    }
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    session.open = false;
  });
  socket.write(`${banner}\r\n`);
  return session;
}
