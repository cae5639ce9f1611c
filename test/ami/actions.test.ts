import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  coreShowChannels,
  filterAdd,
  isSafeDialToken,
  login,
  logoff,
  originate,
  ping,
  queueAdd,
  queuePause,
  queuePenalty,
  queueRemove,
  queueStatus,
  queueSummary,
  serializeAction,
  type ActionRequest,
} from '../../src/ami/actions.js';
import { AmiActionError } from '../../src/ami/client.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/ami/', import.meta.url));

/** The exact bytes the recording client sent for one ActionID (it is what Asterisk 22 accepted). */
function sentBlock(file: string, actionId: string): string {
  const blocks = readFileSync(FIXTURES + file, 'latin1').split('\r\n\r\n');
  const block = blocks.find((b) => b.includes(`\r\nActionID: ${actionId}\r\n`) || b.endsWith(`\r\nActionID: ${actionId}`));
  if (block === undefined) throw new Error(`no ${actionId} in ${file}`);
  return `${block}\r\n\r\n`;
}

const ser = (req: ActionRequest, id: string) => serializeAction(req.action, req.headers, id);

function refusal(fn: () => unknown): AmiActionError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AmiActionError);
    expect((err as AmiActionError).code).toBe('UNSAFE_HEADER');
    return err as AmiActionError;
  }
  throw new Error('expected a refusal, but bytes were produced');
}

describe('serializeAction matches what Asterisk 22 accepted in the recorded sessions', () => {
  const q = 'queue_actions.sent';
  it.each<[string, ActionRequest]>([
    ['queue_actions-1', login({ username: 'bridge', secret: 'secret', events: 'on' })],
    ['queue_actions-3', queueStatus({ queue: 'support' })],
    ['queue_actions-4', queuePause({ interface: 'Local/101@agents/n', queue: 'support', paused: true, reason: 'lunch' })],
    ['queue_actions-5', queueStatus({ queue: 'support', member: 'Local/101@agents/n' })],
    ['queue_actions-6', queuePause({ interface: 'Local/102@agents/n', paused: true, reason: 'break' })],
    ['queue_actions-7', queuePause({ interface: 'Local/999@agents/n', paused: true })],
    ['queue_actions-8', queueSummary({ queue: 'support' })],
    [
      'queue_actions-9',
      queueAdd({ queue: 'support', interface: 'Local/104@agents/n', memberName: 'Agent 104', penalty: 1, paused: false }),
    ],
    ['queue_actions-10', queuePenalty({ interface: 'Local/104@agents/n', penalty: 3, queue: 'support' })],
    ['queue_actions-12', queueRemove({ queue: 'support', interface: 'Local/104@agents/n' })],
    ['queue_actions-13', queuePause({ interface: 'Local/101@agents/n', paused: false })],
    ['queue_actions-19', coreShowChannels()],
    ['queue_actions-21', logoff()],
  ])('%s is byte-identical', (id, req) => {
    expect(ser(req, id)).toBe(sentBlock(q, id));
  });

  it('builds the click-to-call Originate byte-identical to the recorded one', () => {
    const req = originate({
      channel: 'Local/101@agents/n',
      context: 'outbound',
      exten: '5559876',
      priority: 1,
      callerId: 'Click2Call <5559876>',
      timeoutMs: 30000,
      async: true,
      variables: { RECORD: 'yes' },
      channelId: 'c2c-agent-leg-001',
      otherChannelId: 'c2c-agent-leg-001-2',
    });
    expect(ser(req, 'click_to_call-5')).toBe(sentBlock('click_to_call.sent', 'click_to_call-5'));
  });

  it('repeats the key for array values, one Variable header per originate variable', () => {
    const req = originate({
      channel: 'PJSIP/101',
      context: 'c2c-out',
      exten: '79991234567',
      priority: 1,
      async: true,
      variables: { __B24_CALL_ID: 'abc', RECORD: 'yes' },
    });
    expect(ser(req, 'x-1')).toContain('\r\nVariable: __B24_CALL_ID=abc\r\nVariable: RECORD=yes\r\n');
  });

  it('writes Ping, Filter and the Login Events header as Asterisk reads them', () => {
    expect(ser(ping(), 'p-1')).toBe('Action: Ping\r\nActionID: p-1\r\n\r\n');
    expect(ser(filterAdd('Event: Queue*'), 'f-1')).toBe(
      'Action: Filter\r\nActionID: f-1\r\nOperation: Add\r\nFilter: Event: Queue*\r\n\r\n',
    );
    expect(ser(login({ username: 'u', secret: 's' }), 'l-1')).toContain('\r\nEvents: on\r\n');
    expect(ser(login({ username: 'u', secret: 's' }), 'l-1')).not.toMatch(/^Event:/m);
  });
});

describe('serializeAction refuses headers that could inject lines or be cut', () => {
  it.each(['\r', '\n', '\0', '\r\n'])('refuses %j in a value, a key, the action name and the ActionID', (bad) => {
    refusal(() => serializeAction('QueuePause', { Interface: `Local/101${bad}Action: Originate` }, 'id-1'));
    refusal(() => serializeAction('QueuePause', { [`Inter${bad}face`]: 'x' }, 'id-1'));
    refusal(() => serializeAction(`Queue${bad}Pause`, {}, 'id-1'));
    refusal(() => serializeAction('Ping', {}, `id${bad}1`));
    refusal(() => serializeAction('Originate', { Variable: ['A=1', `B=2${bad}`] }, 'id-1'));
  });

  it('refuses a line longer than the 1024 bytes Asterisk reads, counting UTF-8 bytes and the CRLF', () => {
    const fits = 'a'.repeat(1024 - 2 - 'Reason: '.length);
    expect(() => serializeAction('QueuePause', { Reason: fits }, 'id')).not.toThrow();
    refusal(() => serializeAction('QueuePause', { Reason: `${fits}a` }, 'id'));
    refusal(() => serializeAction('QueuePause', { Reason: 'я'.repeat(600) }, 'id'));
  });

  it('refuses commas in originate variables, which Asterisk would split into extra variables', () => {
    const base = { channel: 'PJSIP/101', context: 'c2c-out', exten: '100', priority: 1, async: true } as const;
    refusal(() => originate({ ...base, variables: { B24_CALL_ID: 'x,__EVIL=1' } }));
    refusal(() => originate({ ...base, variables: { 'A,B': 'x' } }));
    refusal(() => originate({ ...base, variables: { 'A=B': 'x' } }));
  });

  it('refuses to let headers override Action or ActionID', () => {
    refusal(() => serializeAction('Ping', { ActionID: 'other' }, 'id'));
    refusal(() => serializeAction('Ping', { action: 'Originate' }, 'id'));
  });

  it('never puts the refused value into the error message', () => {
    const err = refusal(() => serializeAction('Login', { Username: 'u', Secret: 'top-secret\r\nX' }, 'id'));
    expect(err.message).not.toContain('top-secret');
    expect(err.message).toContain('Secret');
  });
});

describe('isSafeDialToken', () => {
  it('accepts numbers, extensions and SIP-ish tokens', () => {
    for (const s of ['79991234567', '+79991234567', '*97', '#1', '101@from-internal', 'PJSIP/101', 'a_b.c-d']) {
      expect(isSafeDialToken(s)).toBe(true);
    }
  });

  it('refuses anything that could change a dial string', () => {
    for (const s of ['', '101&PJSIP/102', '101,20', '1 2', '101)', '101|x', '${EVIL}', '101\r\n', 'ж']) {
      expect(isSafeDialToken(s)).toBe(false);
    }
  });
});
