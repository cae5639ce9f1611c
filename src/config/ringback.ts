import { z } from 'zod';

/**
 * `ringBack:` section: the fix for leastrecent/fewestcalls queues ringing the same member forever
 * (Asterisk ranks by the last *completed* call, and a missed ring completes nothing).
 * Every key has a default, so an empty section (or none) turns the fix on for those two strategies.
 */

/** Strategy names as QueueStatus reports them (`roundrobin` is reported as rrmemory). */
export const QUEUE_STRATEGIES = ['ringall', 'leastrecent', 'fewestcalls', 'random', 'rrmemory', 'linear', 'wrandom', 'rrordered'] as const;

/** The reason goes into an AMI header and queue_log (`PAUSE|<reason>`): one line, no field separator. */
const reason = z
  .string()
  .min(1, 'must not be empty')
  .max(200)
  .regex(/^[^\r\n|]+$/, 'must be one line without "|"');

const escalationSchema = z.strictObject({
  /** Each further action on a member within resetAfterSec multiplies the cooldown by this (1 = never longer). */
  factor: z.number().min(1).max(10).default(2),
  maxCooldownSec: z.number().positive().default(600),
  /** A member left alone this long starts again from cooldownSec; answering a call resets at once. */
  resetAfterSec: z.number().positive().default(1800),
});

export const ringBackSchema = z
  .strictObject({
    /** Off: no new pause/penalty; what an earlier run changed is still undone. */
    enabled: z.boolean().default(true),
    /** pause: QueuePause for the cooldown (the member is skipped). penalty: QueuePenalty +penaltyRaise (tried last). */
    policy: z.enum(['pause', 'penalty']).default('pause'),
    /** Consecutive missed rings (no answer in between) before acting. */
    missesBeforeAction: z.number().int().min(1).max(100).default(1),
    /** Fractions allowed (tests use 0.2). */
    cooldownSec: z.number().positive().default(60),
    escalation: escalationSchema.prefault({}),
    penaltyRaise: z.number().int().min(1).max(1000).default(10),
    /** Our pause reason: how a pause is recognised as ours after a restart, and left alone when it is not. */
    reason: reason.default('asterisk-b24-bridge:no-answer'),
    /** Per queue: auto (by strategy), on (always), off (never). Queues not listed are auto. */
    queues: z.record(z.string().min(1), z.enum(['auto', 'on', 'off'])).default({}),
    /** Strategies that `auto` applies to. */
    strategies: z.array(z.enum(QUEUE_STRATEGIES)).default(['leastrecent', 'fewestcalls']),
    /** Tell the agent in Bitrix24 (im.notify) that they missed a call and for how long they are set aside. */
    notifyAgent: z.boolean().default(false),
    /** A ring shorter than this was busy/congested/unavailable (RingTime 0), not a member who failed to answer. */
    minRingTimeMs: z.number().int().min(0).default(1000),
    /** The pause must land within the queue's `retry` (default 5 s): waiting longer than that is useless. */
    actionTimeoutMs: z.number().int().min(100).default(3000),
  })
  .refine((c) => c.escalation.maxCooldownSec >= c.cooldownSec, {
    message: 'escalation.maxCooldownSec must be at least cooldownSec',
    path: ['escalation', 'maxCooldownSec'],
  });

export type RingBackConfig = z.infer<typeof ringBackSchema>;
export type QueueStrategy = (typeof QUEUE_STRATEGIES)[number];

/** The defaults, with overrides validated the same way as the file (tests, demo). */
export function ringBackConfig(overrides: z.input<typeof ringBackSchema> = {}): RingBackConfig {
  return ringBackSchema.parse(overrides);
}
