import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Many copies of the real Asterisk 22 traces with distinct ids, made at the byte level before any timing, so the
 * framer still parses real AMI bytes. Copy k gets `c<k>-` in front of every *Uniqueid / *Linkedid value (Asterisk
 * itself writes `systemname-` there when `systemname` is set) and 4 more hex digits in every *Channel suffix
 * (`Local/101@agents-00000001;1` -> `Local/101@agents-000700000001;1`), so no two copies share a call, channel or
 * bridge (BridgeUniqueid is covered by the first rule). Timestamps stay as recorded.
 */

const BANNER = 'Asterisk Call Manager/';
const ID_LINE = /^(\w*(?:Uniqueid|Linkedid)): ([^\r\n]+)/gm;
const CHANNEL_LINE = /^(\w*Channel): ([^\r\n]*-)([0-9a-f]{8})(;\d)?(?=\r?\n)/gm;

/** test/fixtures/ami; a bundled copy of this module (the memory child) is told where it is. */
let traceDir = fileURLToPath(new URL('../../test/fixtures/ami/', import.meta.url));
let allTraces: string | undefined;

export function useTraceDir(dir: string): void {
  traceDir = dir.endsWith('/') ? dir : `${dir}/`;
  allTraces = undefined;
}

export function defaultTraceDir(): string {
  return traceDir;
}

/** One trace as latin1 text (one char per byte), without its banner line. */
function traceBody(file: string): string {
  const text = readFileSync(`${traceDir}${file}`).toString('latin1');
  return text.startsWith(BANNER) ? text.slice(text.indexOf('\n') + 1) : text;
}

/** Every trace (*.ami), banner lines removed, in name order. */
export function allTraceText(): string {
  allTraces ??= readdirSync(traceDir)
    .filter((f) => f.endsWith('.ami'))
    .sort()
    .map(traceBody)
    .join('');
  return allTraces;
}

export function rewriteCopy(text: string, copy: number): string {
  const hex = copy.toString(16).padStart(4, '0');
  return text
    .replace(ID_LINE, `$1: c${copy}-$2`)
    .replace(CHANNEL_LINE, (_m, key: string, head: string, suffix: string, half: string | undefined) => `${key}: ${head}${hex}${suffix}${half ?? ''}`);
}

/** Copies first..first+n-1 of every trace, as the bytes Asterisk would send (a banner first when asked). */
export function traceCopies(n: number, opts: { first?: number; banner?: boolean } = {}): Buffer {
  const base = allTraceText();
  const first = opts.first ?? 0;
  const parts: string[] = opts.banner === false ? [] : ['Asterisk Call Manager/11.0.0\r\n'];
  for (let k = first; k < first + n; k++) parts.push(rewriteCopy(base, k));
  return Buffer.from(parts.join(''), 'latin1');
}

/** One trace's copy k, banner and all (for the AMI simulator's replay). */
export function traceCopy(name: string, copy: number): Buffer {
  return Buffer.from(rewriteCopy(readFileSync(`${traceDir}${name}.ami`).toString('latin1'), copy), 'latin1');
}

/** `Event:` messages in one copy of every trace. */
export function eventsPerCopy(): number {
  return allTraceText().match(/^Event: /gm)?.length ?? 0;
}

/** Socket-sized pieces (64 KiB, what a TCP read typically hands over), without copying. */
export function chunks(buf: Buffer, size = 65_536): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, Math.min(buf.length, i + size)));
  return out;
}
