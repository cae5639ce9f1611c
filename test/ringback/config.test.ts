import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ringBackConfig, ringBackSchema } from '../../src/config/ringback.js';

describe('ringBack config section', () => {
  it('defaults to pausing for 60 s after one miss in leastrecent and fewestcalls queues, with the reason of the trace', () => {
    const section = z.strictObject({ ringBack: ringBackSchema.prefault({}) });
    expect(section.parse({}).ringBack).toEqual({
      enabled: true,
      policy: 'pause',
      missesBeforeAction: 1,
      cooldownSec: 60,
      escalation: { factor: 2, maxCooldownSec: 600, resetAfterSec: 1800 },
      penaltyRaise: 10,
      reason: 'asterisk-b24-bridge:no-answer',
      queues: {},
      strategies: ['leastrecent', 'fewestcalls'],
      notifyAgent: false,
      minRingTimeMs: 1000,
      actionTimeoutMs: 3000,
    });
  });

  it('refuses a typo, a reason that could break a header or queue_log, and a cap below the cooldown', () => {
    const issues = (v: unknown) => ringBackSchema.safeParse(v).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(issues({ cooldwnSec: 5 })).toEqual([': Unrecognized key: "cooldwnSec"']);
    expect(issues({ reason: 'a\r\nAction: Logoff' })).toEqual(['reason: must be one line without "|"']);
    expect(issues({ queues: { sales: 'maybe' } })[0]).toMatch(/^queues\.sales:/);
    expect(issues({ cooldownSec: 900 })).toEqual(['escalation.maxCooldownSec: escalation.maxCooldownSec must be at least cooldownSec']);
  });

  it('accepts per-queue modes and fractional cooldowns', () => {
    expect(ringBackConfig({ queues: { support: 'on', sales: 'off' }, cooldownSec: 0.2 })).toMatchObject({ queues: { support: 'on', sales: 'off' }, cooldownSec: 0.2 });
  });
});
