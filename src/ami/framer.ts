import type { AmiMessage, FramerOutput } from './types.js';

/** Limits that keep one bad peer from making us buffer without bound. */
export interface AmiFramerOptions {
  maxLineBytes?: number;
  maxMessageBytes?: number;
  maxHeaders?: number;
  /** The server side reads client input, which has no banner line: pass false there. */
  expectBanner?: boolean;
}

export type FramerErrorCode = Extract<FramerOutput, { type: 'error' }>['code'];

const HIGH_BYTE = /[\x80-\xff]/;
const NON_ASCII = /[^\x00-\x7f]/;
const CR = 13;

/**
 * Turns the AMI byte stream into banner / message / error outputs, whatever the chunking.
 *
 * Works on latin1 text (one char per byte) so that byte limits are exact and a multi-byte UTF-8
 * character split across chunks needs no decoder state; only lines that really hold bytes >= 0x80
 * are decoded as UTF-8, once the whole line is there.
 */
export class AmiFramer {
  private readonly maxLineBytes: number;
  private readonly maxMessageBytes: number;
  private readonly maxHeaders: number;
  private awaitingBanner: boolean;
  /** Start of a line whose LF has not arrived yet (latin1). Never holds a LF. */
  private pending = '';
  private pendingMayHaveHigh = false;
  private current: AmiMessage | null = null;
  private headerCount = 0;
  private messageBytes = 0;
  /** After an error: drop lines up to the blank line that ends the bad message. */
  private skipping = false;

  constructor(options: AmiFramerOptions = {}) {
    this.maxLineBytes = options.maxLineBytes ?? 16384;
    this.maxMessageBytes = options.maxMessageBytes ?? 262144;
    this.maxHeaders = options.maxHeaders ?? 512;
    this.awaitingBanner = options.expectBanner ?? true;
  }

  push(chunk: Buffer | string): FramerOutput[] {
    const text = toLatin1(chunk);
    const out: FramerOutput[] = [];
    const chunkHasHigh = HIGH_BYTE.test(text);
    let pos = 0;

    if (this.pending.length > 0) {
      // Only the new text can hold the LF that completes the pending line.
      const nl = text.indexOf('\n');
      if (nl === -1) {
        this.growPending(text, chunkHasHigh, out);
        return out;
      }
      const line = this.pending + text.slice(0, nl);
      const mayHaveHigh = this.pendingMayHaveHigh || chunkHasHigh;
      this.pending = '';
      this.pendingMayHaveHigh = false;
      this.takeLine(line, 0, lineEnd(line, 0, line.length), line.length + 1, mayHaveHigh, out);
      pos = nl + 1;
    }

    for (;;) {
      const nl = text.indexOf('\n', pos);
      if (nl === -1) break;
      this.takeLine(text, pos, lineEnd(text, pos, nl), nl + 1 - pos, chunkHasHigh, out);
      pos = nl + 1;
    }
    if (pos < text.length) this.growPending(text.slice(pos), chunkHasHigh, out);
    return out;
  }

  private growPending(piece: string, mayHaveHigh: boolean, out: FramerOutput[]): void {
    const next = this.pending + piece;
    if (this.skipping) {
      // Only "is this line blank?" matters while skipping, so keep at most a marker.
      this.pending = next.length > 1 ? 'x' : next;
      return;
    }
    // +1: the line may still end in the CR of its CRLF, which does not count.
    if (next.length > this.maxLineBytes + 1) {
      this.fail('LINE_TOO_LONG', `line longer than ${this.maxLineBytes} bytes`, out);
      this.pending = 'x';
      return;
    }
    this.pending = next;
    this.pendingMayHaveHigh = this.pendingMayHaveHigh || mayHaveHigh;
  }

  /** One complete line: s[start, end) without its CRLF; rawBytes counts the terminator too. */
  private takeLine(s: string, start: number, end: number, rawBytes: number, mayHaveHigh: boolean, out: FramerOutput[]): void {
    if (start === end) {
      this.endOfMessage(out);
      return;
    }
    if (this.skipping) return;
    if (end - start > this.maxLineBytes) {
      this.fail('LINE_TOO_LONG', `line longer than ${this.maxLineBytes} bytes`, out);
      return;
    }
    if (this.awaitingBanner) {
      this.awaitingBanner = false;
      const first = s.slice(start, end);
      if (isBannerLine(first)) {
        out.push({ type: 'banner', text: decodeIfNeeded(first, mayHaveHigh) });
        return;
      }
    }
    this.messageBytes += rawBytes;
    if (this.messageBytes > this.maxMessageBytes) {
      this.fail('MESSAGE_TOO_LARGE', `message larger than ${this.maxMessageBytes} bytes`, out);
      return;
    }
    if (++this.headerCount > this.maxHeaders) {
      this.fail('TOO_MANY_HEADERS', `more than ${this.maxHeaders} header lines in one message`, out);
      return;
    }

    // Split on the first ": " (values may contain ": "); "Key:" alone is an empty value.
    let sep = s.indexOf(': ', start);
    let valueStart = sep + 2;
    if (sep === -1 || sep >= end) {
      sep = s.indexOf(':', start);
      valueStart = sep + 1;
    }
    if (sep === -1 || sep >= end || sep === start) {
      this.fail('MALFORMED_LINE', `not a "Key: Value" line: ${preview(s.slice(start, end))}`, out);
      return;
    }
    const key = decodeIfNeeded(s.slice(start, sep), mayHaveHigh);
    const value = decodeIfNeeded(s.slice(valueStart, end), mayHaveHigh);
    const msg = this.current ?? (this.current = Object.create(null) as AmiMessage);
    const existing = msg[key];
    if (existing === undefined) msg[key] = value;
    else if (typeof existing === 'string') msg[key] = [existing, value];
    else existing.push(value);
  }

  private endOfMessage(out: FramerOutput[]): void {
    if (this.current !== null && !this.skipping) out.push({ type: 'message', message: this.current });
    this.resetMessage();
  }

  private fail(code: FramerErrorCode, detail: string, out: FramerOutput[]): void {
    out.push({ type: 'error', code, detail });
    this.awaitingBanner = false;
    this.resetMessage();
    this.skipping = true;
  }

  private resetMessage(): void {
    this.current = null;
    this.headerCount = 0;
    this.messageBytes = 0;
    this.skipping = false;
  }
}

function toLatin1(chunk: Buffer | string): string {
  if (typeof chunk !== 'string') return chunk.toString('latin1');
  // A JS string is already decoded; get back to its UTF-8 bytes only when it is not plain ASCII.
  return NON_ASCII.test(chunk) ? Buffer.from(chunk, 'utf8').toString('latin1') : chunk;
}

/** End of line content: drop the CR of a CRLF (a bare LF is accepted too). */
function lineEnd(s: string, start: number, lf: number): number {
  return lf > start && s.charCodeAt(lf - 1) === CR ? lf - 1 : lf;
}

function decodeIfNeeded(latin1: string, mayHaveHigh: boolean): string {
  if (!mayHaveHigh || !HIGH_BYTE.test(latin1)) return latin1;
  return Buffer.from(latin1, 'latin1').toString('utf8');
}

/** `Asterisk Call Manager/11.0.0`; any first line without a colon is taken as a (foreign) banner. */
function isBannerLine(line: string): boolean {
  return line.startsWith('Asterisk Call Manager/') || line.indexOf(':') === -1;
}

function preview(line: string): string {
  return JSON.stringify(line.length > 40 ? `${line.slice(0, 40)}...` : line);
}
