import { describe, expect, it } from 'vitest';
import type { OutboxEntry } from '../../src/bitrix/outbox-entry.js';
import { callStartOf, isLostRegisterReason, lostRegisterReason, mayResend } from '../../src/bitrix/outbox/register-dedup.js';

/** The rule for repeating a register whose answer was lost: only while Bitrix24 recognises the repeat. */

const MIN = 60_000;
const START = Date.parse('2026-12-05T10:00:00Z');

function register(extra: Partial<OutboxEntry> = {}, params: Record<string, unknown> = { CALL_START_DATE: '2026-12-05T13:00:00+03:00' }): OutboxEntry {
  return { seq: 7, key: 'L7', kind: 'register', method: 'telephony.externalcall.register', params, needsCallId: false, attempts: 1, notBefore: 0, createdAt: START + MIN, ...extra };
}

describe('repeating a register whose answer was lost', () => {
  it.each<[string, OutboxEntry, number, boolean]>([
    ['a register never possibly executed goes at any age', register(), START + 90 * MIN, true],
    ['an uncertain register goes inside the window less the margin', register({ uncertain: true }), START + 24 * MIN, true],
    ['an uncertain register waits for an admin at the margin', register({ uncertain: true }), START + 25 * MIN, false],
    ['an uncertain register waits for an admin past the window', register({ uncertain: true }), START + 31 * MIN, false],
    ['other commands are never held by this rule', { ...register({ uncertain: true }), kind: 'finish' }, START + 90 * MIN, true],
  ])('%s', (_name, entry, now, expected) => {
    expect(mayResend(entry, now, 5 * MIN)).toBe(expected);
  });

  it('anchors the window at CALL_START_DATE, or without one at the command’s creation (earlier than Bitrix24’s own "now")', () => {
    expect(callStartOf(register())).toBe(START);
    expect(callStartOf(register({}, {}))).toBe(START + MIN);
    expect(callStartOf(register({}, { CALL_START_DATE: 'garbage' }))).toBe(START + MIN);
  });

  it('says in its park reason what happened and what the admin runs, and is recognised as such', () => {
    const reason = lostRegisterReason(register({ uncertain: true, lastError: 'TIMEOUT: timeout', params: { CALL_START_DATE: '2026-12-05T13:00:00+03:00', PHONE_NUMBER: '+7495', USER_ID: 11 } }));
    expect(reason).toMatch(/^register answer lost \(TIMEOUT: timeout\) .* CALL_START_DATE 2026-12-05T10:00:00.000Z: .* from \+7495 to user 11 .*EXTERNAL_CALL_ID L7.* run: parked --retry 7$/);
    expect(isLostRegisterReason(reason)).toBe(true);
    expect(isLostRegisterReason('CONTRACT: User is not found or is not active')).toBe(false);
  });
});
