import { AmiFramer } from '../../ami/framer.js';
import type { AmiMessage } from '../../ami/types.js';

/** One message of a recorded .ami stream with its exact original bytes. */
export interface TraceItem {
  raw: Buffer;
  message: AmiMessage;
}

/** Every `Event:` message of a recorded .ami stream, in order. */
export function readTraceEvents(trace: string | Buffer): AmiMessage[] {
  return splitTrace(trace)
    .map((i) => i.message)
    .filter((m) => m['Event'] !== undefined);
}

/**
 * The events a live session would have seen: those after the login response, without the recorder's own
 * handshake FullyBooted (the simulator sends one) and without list items answering the recorder's actions
 * (ActionID and no Privilege: Asterisk sends those to the asking session only).
 */
export function traceEventsForReplay(trace: string | Buffer): AmiMessage[] {
  return replayItems(trace).map((i) => i.message);
}

/** The items of `traceEventsForReplay`, with their bytes. */
export function replayItems(trace: string | Buffer): TraceItem[] {
  const items = splitTrace(trace);
  // The recorded Login's answer: a Response that is no event (OriginateResponse events carry a Response too).
  const login = items.findIndex((i) => i.message['Response'] !== undefined && i.message['Event'] === undefined);
  const after = items.slice(login + 1);
  if (after[0]?.message['Event'] === 'FullyBooted') after.shift();
  return after.filter(
    (i) => i.message['Event'] !== undefined && (i.message['ActionID'] === undefined || i.message['Privilege'] !== undefined),
  );
}

/** Cut a trace into messages, keeping each one's exact original bytes. */
function splitTrace(trace: string | Buffer): TraceItem[] {
  const buf = typeof trace === 'string' ? Buffer.from(trace, 'utf8') : trace;
  const items: TraceItem[] = [];
  let start = 0;
  let pos = 0;
  if (buf.subarray(0, 22).toString('latin1') === 'Asterisk Call Manager/') start = pos = buf.indexOf(0x0a) + 1;
  while (pos < buf.length) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl === -1) break;
    const blank = nl === pos || (nl === pos + 1 && buf[pos] === 0x0d);
    pos = nl + 1;
    if (!blank) continue;
    const raw = buf.subarray(start, pos);
    start = pos;
    for (const out of new AmiFramer({ expectBanner: false }).push(raw)) {
      if (out.type === 'message') items.push({ raw, message: out.message });
    }
  }
  return items;
}
