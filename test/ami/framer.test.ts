import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AmiFramer } from '../../src/ami/framer.js';
import type { AmiMessage, FramerOutput } from '../../src/ami/types.js';
import { mulberry32 } from '../../src/sim/prng.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/ami/', import.meta.url));
const TRACES = readdirSync(FIXTURES).filter((f) => f.endsWith('.ami'));


function feed(chunks: Iterable<Buffer | string>, framer = new AmiFramer()): FramerOutput[] {
  const out: FramerOutput[] = [];
  for (const c of chunks) out.push(...framer.push(c));
  return out;
}

function* randomChunks(buf: Buffer, seed: number, maxSize: number): Generator<Buffer> {
  const rnd = mulberry32(seed);
  for (let i = 0; i < buf.length; ) {
    const n = 1 + Math.floor(rnd() * maxSize);
    yield buf.subarray(i, i + n);
    i += n;
  }
}

function* bytes(buf: Buffer): Generator<Buffer> {
  for (let i = 0; i < buf.length; i++) yield buf.subarray(i, i + 1);
}

function messages(out: FramerOutput[]): AmiMessage[] {
  return out.flatMap((o) => (o.type === 'message' ? [o.message] : []));
}

function errors(out: FramerOutput[]): string[] {
  return out.flatMap((o) => (o.type === 'error' ? [o.code] : []));
}

/** Message count written by the recorder in the matching .txt ("raw stream: x.ami (N bytes, M messages)"). */
function recordedMessageCount(trace: string): number {
  const txt = readFileSync(FIXTURES + trace.replace(/\.ami$/, '.txt'), 'utf8');
  const m = /raw stream: \S+ \(\d+ bytes, (\d+) messages\)/.exec(txt);
  if (!m?.[1]) throw new Error(`no message count in the .txt of ${trace}`);
  return Number(m[1]);
}

describe('AmiFramer on the recorded Asterisk 22 traces', () => {
  it.each(TRACES)('%s gives the same output whole, byte by byte and in random chunks', (trace) => {
    const buf = readFileSync(FIXTURES + trace);
    const whole = feed([buf]);
    expect(feed(bytes(buf))).toEqual(whole);
    for (const seed of [1, 7, 42]) expect(feed(randomChunks(buf, seed, 700))).toEqual(whole);
    expect(feed(randomChunks(buf, 99, 9000))).toEqual(whole);
  });

  it.each(TRACES)('%s starts with the banner and yields one message per blank-line-terminated block', (trace) => {
    const buf = readFileSync(FIXTURES + trace);
    const out = feed([buf]);
    expect(out[0]).toEqual({ type: 'banner', text: 'Asterisk Call Manager/11.0.0' });
    expect(errors(out)).toEqual([]);
    const blocks = buf.toString('latin1').split('\r\n\r\n').length - 1;
    expect(messages(out)).toHaveLength(blocks);
    expect(messages(out)).toHaveLength(recordedMessageCount(trace));
  });
});

describe('AmiFramer header parsing', () => {
  const queueActions = readFileSync(FIXTURES + 'queue_actions.ami');
  const all = messages(feed([queueActions]));

  it('keeps every value of a repeated key, in order, as an array (Output lines of a Command response)', () => {
    const command = all.find((m) => m['Message'] === 'Command output follows');
    expect(command?.['Output']).toEqual([
      "support has 0 calls (max unlimited) in 'ringall' strategy (1s holdtime, 4s talktime), W:0, C:5, A:3, SL:0.0%, SL2:0.0% within 0s",
      '   Members: ',
      '      Agent 103 (Local/103@agents/n) (ringinuse disabled) (Not in use) has taken no calls yet (login was 214 secs ago)',
      '      Agent 102 (Local/102@agents/n) (ringinuse disabled) (Not in use) has taken 5 calls (last was 33 secs ago) (login was 214 secs ago)',
      '      Agent 101 (Local/101@agents/n) (ringinuse disabled) (Not in use) has taken no calls yet (login was 214 secs ago)',
      '   No Callers',
      '',
      '',
    ]);
  });

  it('splits on the first ": " only, so values keep their own ": "', () => {
    const out = messages(feed(['Event: Newexten\r\nAppData: Queue sales finished: QUEUESTATUS=TIMEOUT\r\n\r\n']));
    expect(out[0]?.['AppData']).toBe('Queue sales finished: QUEUESTATUS=TIMEOUT');
  });

  it('reads "Key:" and "Key: " as empty values, and a key that repeats ChanVariable-style as an array', () => {
    const framer = new AmiFramer({ expectBanner: false });
    const out = messages(
      feed(['Event: Hangup\r\nAccountCode: \r\nEmpty:\r\nChanVariable: A=1\r\nChanVariable: B=x: y\r\n\r\n'], framer),
    );
    expect(out).toEqual([{ Event: 'Hangup', AccountCode: '', Empty: '', ChanVariable: ['A=1', 'B=x: y'] }]);
  });

  it('accepts bare LF line endings', () => {
    expect(messages(feed(['Asterisk Call Manager/11.0.0\nResponse: Success\nPing: Pong\n\n']))).toEqual([
      { Response: 'Success', Ping: 'Pong' },
    ]);
  });

  it('treats keys like __proto__ and constructor as plain headers', () => {
    const out = messages(feed(['Event: X\r\n__proto__: a\r\nconstructor: b\r\nconstructor: c\r\n\r\n'], new AmiFramer()));
    expect(out[0]?.['__proto__']).toBe('a');
    expect(out[0]?.['constructor']).toEqual(['b', 'c']);
  });

  it('decodes UTF-8 characters split across chunks', () => {
    const text = 'Event: Newchannel\r\nCallerIDName: Иван Петров 😀 Müller\r\n\r\n';
    const buf = Buffer.from(text, 'utf8');
    const expected = [{ Event: 'Newchannel', CallerIDName: 'Иван Петров 😀 Müller' }];
    expect(messages(feed(bytes(buf), new AmiFramer({ expectBanner: false })))).toEqual(expected);
    expect(messages(feed(randomChunks(buf, 3, 5), new AmiFramer({ expectBanner: false })))).toEqual(expected);
    expect(messages(feed([text], new AmiFramer({ expectBanner: false })))).toEqual(expected);
  });
});

describe('AmiFramer on garbage', () => {
  const good = 'Event: Good\r\nN: 1\r\n\r\n';
  const banner = 'Asterisk Call Manager/11.0.0\r\n';

  function check(bad: Buffer | string, code: string, framerOpts = {}): void {
    const stream = Buffer.concat([Buffer.from(banner + good), Buffer.from(bad), Buffer.from(good)]);
    const whole = feed([stream], new AmiFramer(framerOpts));
    expect(errors(whole)).toEqual([code]);
    expect(messages(whole)).toEqual([
      { Event: 'Good', N: '1' },
      { Event: 'Good', N: '1' },
    ]);
    expect(feed(bytes(stream), new AmiFramer(framerOpts))).toEqual(whole);
    expect(feed(randomChunks(stream, 5, 300), new AmiFramer(framerOpts))).toEqual(whole);
  }

  it('reports a line with no colon once and drops the rest of that message only', () => {
    check('Event: Bad\r\nthis line has no colon\r\nMore: stuff\r\nand more garbage\r\n\r\n', 'MALFORMED_LINE');
  });

  it('reports random bytes without a colon or line break as one malformed message', () => {
    const rnd = mulberry32(11);
    const junk = Buffer.alloc(3000);
    for (let i = 0; i < junk.length; i++) {
      let b = Math.floor(rnd() * 256);
      if (b === 0x0a || b === 0x0d || b === 0x3a) b = 0x41;
      junk[i] = b;
    }
    check(Buffer.concat([junk, Buffer.from('\r\n\r\n')]), 'MALFORMED_LINE');
  });

  it('reports a 20 kB line once, never holding it whole', () => {
    check(`Event: Big\r\nData: ${'x'.repeat(20_000)}\r\nAfter: 1\r\n\r\n`, 'LINE_TOO_LONG');
  });

  it('reports a 600-header message once', () => {
    const lines = Array.from({ length: 600 }, (_, i) => `H${i}: v\r\n`).join('');
    check(`Event: Many\r\n${lines}\r\n`, 'TOO_MANY_HEADERS');
  });

  it('reports a message over the byte limit once', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `H${i}: ${'y'.repeat(100)}\r\n`).join('');
    check(`Event: Huge\r\n${lines}\r\n`, 'MESSAGE_TOO_LARGE', { maxMessageBytes: 4096 });
  });

  it('reports each bad message separately', () => {
    const stream = `${banner}no colon\r\n\r\n${good}also no colon\r\n\r\n${good}`;
    const out = feed([stream]);
    expect(errors(out)).toEqual(['MALFORMED_LINE', 'MALFORMED_LINE']);
    expect(messages(out)).toHaveLength(2);
  });
});
