import type { Effect } from '../core/effects.js';
import type { CrmNumber } from './number.js';
import { BoundedMap } from '../util/bounded-map.js';

/**
 * Keeps blocked callers out of Bitrix24 (crm.blacklist.skipRegistration): an inbound call from a blocked number is
 * not registered, and then none of its Bitrix24 commands may go either (show, hide, finish, recording would wait
 * forever for a CALL_ID that never comes). The core stays untouched: it tracks the call as usual, the gate drops
 * that call's Bitrix24 effects on their way to the outbox. `callEnded` still passes (logs, metrics) and ends the
 * entry. Outbound calls to a blocked number are the agent's choice and are registered as usual.
 */

export interface RegisterGateOptions {
  enabled: boolean;
  /** Number as the core reports it -> comparable number (undefined: anonymous or unusable, never blocked). */
  toNumber: (raw: string) => CrmNumber | undefined;
  /** Config list, and the CRM entity's blacklist field if a lookup during this call already read it. */
  isBlocked: (n: CrmNumber) => boolean;
  onBlocked?: (linkedid: string, n: CrmNumber) => void;
  /** Bound on remembered calls (calls that never end, e.g. poisoned ones, must not grow it forever). */
  maxCalls?: number;
}

const BITRIX_TYPES = new Set(['register', 'show', 'hide', 'finish', 'attachRecording', 'bindCallId']);

export class RegisterGate {
  /** Entries never expire: a call's entry goes at its callEnded, or as the oldest when the bound is reached. */
  private readonly skipped: BoundedMap<string, true>;

  constructor(private readonly opts: RegisterGateOptions) {
    this.skipped = new BoundedMap({ max: opts.maxCalls ?? 10_000, clock: Date.now });
  }

  /** False: do not perform this effect. */
  admit(effect: Effect): boolean {
    if (!this.opts.enabled) return true;
    if (effect.type === 'callEnded') {
      this.skipped.delete(effect.linkedid);
      return true;
    }
    if (effect.type === 'register' && effect.callType === 2) {
      const n = this.opts.toNumber(effect.phoneNumber);
      if (n && this.opts.isBlocked(n)) {
        this.remember(effect.linkedid);
        this.opts.onBlocked?.(effect.linkedid, n);
        return false;
      }
      return true;
    }
    return !(BITRIX_TYPES.has(effect.type) && 'linkedid' in effect && this.skipped.has(effect.linkedid));
  }

  /** Calls whose Bitrix24 commands are being dropped. */
  get size(): number {
    return this.skipped.size;
  }

  private remember(linkedid: string): void {
    this.skipped.set(linkedid, true);
  }
}
