import type { RingBackConfig } from '../config/ringback.js';
import type {
  RingBackCause,
  RingBackChange,
  RingBackEffect,
  RingBackLogEvent,
  RingBackPolicyName,
  RingBackState,
  RingBackStrike,
} from './types.js';

/**
 * The policy's memory: what we changed (persisted), escalation strikes (persisted) and what Asterisk last
 * told us about each member (rebuilt from events and QueueStatus). Plus the effect collector. Pure.
 */

/** Queue + interface; JSON so no separator can collide with a queue or interface name. */
export const memberKey = (queue: string, iface: string): string => JSON.stringify([queue, iface]);
/** One change per policy per member: an adopted pause and our penalty can coexist. Also its timer id. */
export const changeKey = (policy: RingBackPolicyName, queue: string, iface: string): string => JSON.stringify([policy, queue, iface]);

/** Last known state of a member; `at` is when we learned it (event or QueueStatus request time). */
export interface Observed {
  paused?: boolean;
  reason?: string;
  penalty?: number;
  at: number;
}

export class Ledger {
  readonly changes = new Map<string, RingBackChange>();
  readonly strikes = new Map<string, RingBackStrike>();
  readonly observed = new Map<string, Observed>();

  constructor(state?: RingBackState) {
    for (const c of state?.changes ?? []) this.changes.set(changeKey(c.policy, c.queue, c.iface), { ...c });
    for (const s of state?.strikes ?? []) this.strikes.set(memberKey(s.queue, s.iface), { ...s });
  }

  snapshot(): RingBackState {
    return {
      version: 1,
      changes: [...this.changes.values()].map((c) => ({ ...c })),
      strikes: [...this.strikes.values()].map((s) => ({ ...s })),
    };
  }

  observe(queue: string, iface: string, patch: Omit<Observed, 'at'>, at: number): void {
    const key = memberKey(queue, iface);
    this.observed.set(key, { ...this.observed.get(key), ...patch, at });
  }

  changesOf(pred: (c: RingBackChange) => boolean): RingBackChange[] {
    return [...this.changes.values()].filter(pred);
  }

  /** Level of the next action on this member: one more than the last if it was recent, else 0. */
  nextLevel(queue: string, iface: string, at: number, cfg: RingBackConfig): number {
    const s = this.strikes.get(memberKey(queue, iface));
    return s !== undefined && at - s.lastAt <= cfg.escalation.resetAfterSec * 1000 ? Math.min(s.level + 1, 30) : 0;
  }

  /** Strikes older than the reset window mean nothing any more; keeps the state file small. */
  pruneStrikes(at: number, cfg: RingBackConfig): boolean {
    let pruned = false;
    for (const [key, s] of this.strikes) {
      if (at - s.lastAt > cfg.escalation.resetAfterSec * 1000) {
        this.strikes.delete(key);
        pruned = true;
      }
    }
    return pruned;
  }
}

/** cooldownSec * factor^level, capped. */
export function cooldownMs(level: number, cfg: RingBackConfig): number {
  const sec = Math.min(cfg.cooldownSec * cfg.escalation.factor ** level, cfg.escalation.maxCooldownSec);
  return Math.round(sec * 1000);
}

type Who = Pick<RingBackChange, 'queue' | 'iface' | 'memberName' | 'policy' | 'reason'>;

/** Collects one input's effects; a state change puts a `persist` in front of them. */
export class Out {
  private readonly effects: RingBackEffect[] = [];
  private changed = false;

  push(effect: RingBackEffect): void {
    this.effects.push(effect);
  }

  dirty(): void {
    this.changed = true;
  }

  log(
    level: 'debug' | 'info' | 'warn' | 'error',
    event: RingBackLogEvent,
    who: Who,
    cause: RingBackCause,
    extra: { cooldownSec?: number; penalty?: number; detail?: string } = {},
  ): void {
    const { queue, iface, memberName, policy, reason } = who;
    this.effects.push({ type: 'log', level, event, queue, iface, memberName, policy, cause, ...(reason === undefined ? {} : { reason }), ...extra });
  }

  take(): RingBackEffect[] {
    return this.changed ? [{ type: 'persist' }, ...this.effects] : this.effects;
  }
}
