import type { RingBackConfig } from '../config/ringback.js';
import { changeKey, cooldownMs, Ledger, memberKey, Out, type Observed } from './ledger.js';
import type { RingBackCause, RingBackChange, RingBackLogEvent, RingBackState } from './types.js';

/**
 * The changes we hold and the operations on them (arm, undo, finish, forget, adopt), shared by the policy,
 * the feedback from Asterisk and the reconcile. Pure: every operation only adds effects to `out`.
 */

type Level = 'debug' | 'info' | 'warn' | 'error';

/** Our own pause reported after our own undo is an echo, not a pause to adopt. */
const ECHO_WINDOW_MS = 10_000;

export class ChangeBook {
  readonly ledger: Ledger;
  /** Changes loaded from disk: nothing is done with them before a QueueStatus has shown they still stand. */
  readonly unverified = new Set<string>();
  private readonly undoneAt = new Map<string, number>();
  /** Replaced for every input by the policy. */
  out = new Out();

  constructor(
    /** Replaced on SIGHUP; the records, and what is verified, stay. */
    public cfg: RingBackConfig,
    state?: RingBackState,
  ) {
    this.ledger = new Ledger(state);
    for (const key of this.ledger.changes.keys()) this.unverified.add(key);
  }

  /** The reason our pause carries: its own, or (a file from before reasons were saved) the configured one. */
  reasonOf(c: RingBackChange): string {
    return c.reason ?? this.cfg.reason;
  }

  get(policy: RingBackChange['policy'], queue: string, iface: string): RingBackChange | undefined {
    return this.ledger.changes.get(changeKey(policy, queue, iface));
  }

  isVerified(c: RingBackChange): boolean {
    return !this.unverified.has(keyOf(c));
  }

  add(c: RingBackChange): void {
    this.ledger.changes.set(keyOf(c), c);
    this.out.dirty();
  }

  confirm(c: RingBackChange): void {
    c.phase = 'active';
    this.unverified.delete(keyOf(c));
    this.out.dirty();
  }

  arm(c: RingBackChange): void {
    this.out.push({ type: 'scheduleTimer', id: keyOf(c), at: c.until });
  }

  undo(c: RingBackChange, cause: RingBackCause, at: number, cancelTimer = true): void {
    const seen = this.ledger.observed.get(memberKey(c.queue, c.iface));
    // Paused by someone else after our change (their event may have come before ours, which then was ignored):
    // unpausing now would end their pause.
    if (c.policy === 'pause' && seen !== undefined && seen.at >= c.changedAt && pauseVerdict(this, c, seen) === 'takenOver') {
      return this.forget(c, 'forgotten', 'info', 'pausedByOther', `paused with reason "${seen.reason ?? ''}" since our pause`);
    }
    c.phase = 'undoing';
    c.undoCause = cause;
    const strike = this.ledger.strikes.get(memberKey(c.queue, c.iface));
    if (strike !== undefined) strike.lastAt = at; // the escalation window runs from the undo
    this.out.dirty();
    if (cancelTimer) this.out.push({ type: 'cancelTimer', id: keyOf(c) });
    this.sendUndo(c);
  }

  sendUndo(c: RingBackChange): void {
    if (c.policy === 'pause') this.out.push({ type: 'unpause', queue: c.queue, iface: c.iface, cause: c.undoCause ?? 'cooldownOver' });
    else this.out.push({ type: 'setPenalty', queue: c.queue, iface: c.iface, penalty: c.restoreTo ?? 0, purpose: 'restore' });
  }

  finishUndo(c: RingBackChange, at: number): void {
    this.drop(c);
    this.undoneAt.set(keyOf(c), at);
    // What we just set, so a late echo of our own change is not taken for the member's real state.
    if (c.policy === 'pause') this.ledger.observe(c.queue, c.iface, { paused: false, reason: '' }, at);
    else this.ledger.observe(c.queue, c.iface, { penalty: c.restoreTo ?? 0 }, at);
    this.out.log('info', 'undone', c, c.undoCause ?? 'cooldownOver', c.restoreTo === undefined ? {} : { penalty: c.restoreTo });
  }

  /**
   * Someone paused the member before our pause landed (their event came before ours: app_queue publishes a
   * member's pause events in the order it applies them). Autopause does exactly that: `rna()` publishes
   * AgentRingNoAnswer, then pauses the member with `Auto-Pause`, and our QueuePause, sent on the miss, re-pauses
   * them with our reason. The pause is theirs: we never unpause it, we put their reason back (a pause with our
   * reason would be adopted after a restart and ended) and forget our change. Our own event, still on its way,
   * is an echo, not a pause to adopt.
   */
  handBack(c: RingBackChange, reason: string, at: number): void {
    this.drop(c);
    this.undoneAt.set(keyOf(c), at);
    this.ledger.strikes.delete(memberKey(c.queue, c.iface)); // the miss was dealt with by them, not us
    this.out.push({ type: 'handBack', queue: c.queue, iface: c.iface, reason });
    this.out.log('info', 'handedBack', c, 'pausedByOther', { detail: `paused with reason "${reason}" before our pause landed; their reason put back` });
  }

  forget(c: RingBackChange, event: RingBackLogEvent, level: Level, cause: RingBackCause, detail?: string): void {
    this.drop(c);
    this.out.log(level, event, c, cause, detail === undefined ? {} : { detail });
  }

  /** A pause with our reason and no record (state file lost, or a crash between the action and the save). */
  adopt(queue: string, iface: string, memberName: string, at: number, until: number, cause: RingBackCause): void {
    if ((this.undoneAt.get(changeKey('pause', queue, iface)) ?? -Infinity) > at - ECHO_WINDOW_MS) return;
    const c: RingBackChange = {
      ...{ queue, iface, memberName, policy: 'pause', phase: 'active', acked: true, reason: this.cfg.reason },
      ...{ changedAt: at, until, cooldownMs: cooldownMs(0, this.cfg), level: 0 },
    };
    this.add(c);
    this.out.log('warn', 'adopted', c, cause, { detail: 'paused with our reason but not in our records; undone after a cooldown' });
    if (until <= at) this.undo(c, 'cooldownOver', at);
    else this.arm(c);
  }

  private drop(c: RingBackChange): void {
    const key = keyOf(c);
    this.ledger.changes.delete(key);
    this.unverified.delete(key);
    this.out.push({ type: 'cancelTimer', id: key });
    this.out.dirty();
  }
}

export type Verdict = 'ours' | 'released' | 'takenOver';

/** What a member's last known pause state says about our pause on it. */
export function pauseVerdict(book: ChangeBook, c: RingBackChange, seen: Observed): Verdict {
  if (seen.paused !== true) return 'released';
  if (seen.reason === book.reasonOf(c)) return 'ours';
  // A real queue reload keeps the pause but erases its reason: still ours if we had seen it stand.
  if (seen.reason === '' && c.phase !== 'applying') return 'ours';
  return 'takenOver';
}

export function keyOf(c: RingBackChange): string {
  return changeKey(c.policy, c.queue, c.iface);
}
