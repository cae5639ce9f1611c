import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AmiFramer } from '../../src/ami/framer.js';
import type { AmiMessage } from '../../src/ami/types.js';
import { ChannelClassifier } from '../../src/core/classify.js';
import type { Effect } from '../../src/core/effects.js';
import { normalize } from '../../src/core/normalize.js';
import { CallTracker, type TrackerOptions } from '../../src/core/tracker.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
export const AMI_DIR = `${FIXTURES}ami/`;

/** The extensions of the traces' agents mapped to Bitrix24 users (1xx -> 1x, 2xx -> 2x, 3xx -> 3x). */
export const TRACE_USERS: Record<string, number> = { '101': 11, '102': 12, '103': 13, '201': 21, '202': 22, '203': 23, '301': 31, '302': 32, '303': 33 };
export const DEFAULT_USER = 1;

/** Every recorded scenario; a scenario recorded over several AMI connections is one name (see traceSessions). */
export function traceNames(): string[] {
  return readdirSync(AMI_DIR)
    .filter((f) => f.endsWith('.ami') && !/\.\d+\.ami$/.test(f))
    .map((f) => f.slice(0, -4))
    .sort();
}

/**
 * The connections a scenario was recorded over: `<name>.ami`, then `<name>.2.ami`, ... (the daemon killed and
 * started again, or its AMI link dropped: each later file is what Asterisk sent on the next login).
 */
export function traceSessions(name: string): string[] {
  const out = [name];
  while (existsSync(`${AMI_DIR}${name}.${out.length + 1}.ami`)) out.push(`${name}.${out.length + 1}`);
  return out;
}

export function traceBytes(name: string): Buffer {
  return readFileSync(`${AMI_DIR}${name}.ami`);
}

/**
 * The trace cut in two at the first event matching `isCut` (so a fault can happen in between). Both halves keep the
 * recording's banner and login answer, which the simulator uses to find where the events start.
 */
export function splitTrace(name: string, isCut: (event: Record<string, unknown>) => boolean): [Buffer, Buffer] {
  const text = traceBytes(name).toString('latin1');
  let offset = 0;
  let cut = -1;
  let head = -1;
  for (const block of text.split('\r\n\r\n')) {
    const msg = new AmiFramer({ expectBanner: false }).push(`${block.replace(/^Asterisk Call Manager.*\r\n/, '')}\r\n\r\n`).find((o) => o.type === 'message');
    offset += block.length + 4;
    if (msg?.type !== 'message') continue;
    if (head < 0 && msg.message['Response'] !== undefined && msg.message['Event'] === undefined) head = offset;
    if (cut < 0 && isCut(msg.message)) cut = offset - block.length - 4;
  }
  return [Buffer.from(text.slice(0, cut), 'latin1'), Buffer.from(text.slice(0, head) + text.slice(cut), 'latin1')];
}

export function traceMessages(name: string): AmiMessage[] {
  const out: AmiMessage[] = [];
  for (const o of new AmiFramer().push(traceBytes(name))) if (o.type === 'message') out.push(o.message);
  return out;
}

/** The options the traces were recorded for: their dialplan contexts, extension pattern and users. */
export function traceOptions(overrides: Partial<TrackerOptions> = {}): TrackerOptions {
  return {
    classifier: new ChannelClassifier({
      contexts: { inbound: ['from-trunk', 'incoming'], outbound: ['outbound', 'from-internal-outbound'], internal: ['from-internal', 'agents'] },
      extensionPattern: '^(?:PJSIP|SIP|IAX2|Local)/(\\d+)',
    }),
    users: TRACE_USERS,
    defaultUserId: DEFAULT_USER,
    crmCreate: { inbound: true, outbound: false },
    defaultLineNumber: '',
    showCards: true,
    ...overrides,
  };
}

export function traceTracker(overrides: Partial<TrackerOptions> = {}): CallTracker {
  return new CallTracker(traceOptions(overrides));
}

export interface TimedEffect {
  t: number;
  effect: Effect;
}

/** Replays a trace through a fresh core; `t` is seconds since the first event, to the millisecond. */
export function replay(name: string, tracker = traceTracker()): TimedEffect[] {
  const out: TimedEffect[] = [];
  let t0: number | undefined;
  for (const msg of traceMessages(name)) {
    const input = normalize(msg, 0);
    if (!input) continue;
    t0 ??= input.at;
    for (const effect of tracker.handle(input)) out.push({ t: Math.round(input.at - t0) / 1000, effect });
  }
  return out;
}

export const EXPECTED_DIR = `${FIXTURES}expected/`;

/** The reviewed effects of a trace: test/fixtures/expected/<trace>.effects.jsonl (npm run golden rewrites them). */
export function expectedEffects(name: string): TimedEffect[] {
  return readFileSync(`${EXPECTED_DIR}${name}.effects.jsonl`, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as TimedEffect);
}

/** What the core gives for a trace now, in the expected file's format: one timed effect per line. */
export function effectsText(name: string): string {
  return replay(name)
    .map((e) => `${JSON.stringify(e)}\n`)
    .join('');
}
