import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from './tmp.js';
import { requireTool } from './tools.js';

/**
 * A stand-in for systemd's notify socket: a real unix datagram socket (a python3 listener, as node has no
 * datagram unix sockets) that keeps every message it receives, with the time it came.
 */

export interface NotifySocket {
  /** The path to put in NOTIFY_SOCKET. */
  path: string;
  received: Array<{ at: number; text: string }>;
  close(): void;
}

const LISTENER = `
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps("listening"), flush=True)
while True:
    print(json.dumps(s.recv(4096).decode()), flush=True)
`;

/** Listening once it resolves. Needs python3 (and the sender, systemd-notify): a missing one fails the test. */
export async function startNotifySocket(): Promise<NotifySocket> {
  requireTool('python3');
  requireTool('systemd-notify');
  const path = join(tempDir('b24bridge-notify-'), 'notify.sock');
  const received: Array<{ at: number; text: string }> = [];
  const proc: ChildProcess = spawn('python3', ['-c', LISTENER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  let buffered = '';
  await new Promise<void>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('exit', (code) => reject(new Error(`the notify socket listener exited with ${code}`)));
    proc.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const text = JSON.parse(line) as string;
        if (text === 'listening') resolve();
        else received.push({ at: Date.now(), text });
      }
    });
  });
  return { path, received, close: () => void proc.kill() };
}
