import type { RingBackConfig } from '../config/ringback.js';
import { ChangeBook } from './changes.js';
import { onActionResult, onMemberPause, onMemberPenalty } from './feedback.js';
import { changeKey, cooldownMs, memberKey, Out } from './ledger.js';
import { reconcile, release } from './reconcile.js';
import type { RingBackChange, RingBackEffect, RingBackInput, RingBackState, RingBackStrike } from './types.js';

/**
 * The ring-back fix as a pure state machine. A member who lets a leastrecent/fewestcalls queue ring out is
 * paused (or demoted) before the queue's next attempt, and exactly that change is undone when the cooldown
 * ends, the member answers a call, or leaves the queue. Anything someone else did is never touched.
 * No I/O, no clock: time comes with each input, effects go out as data, `snapshot()` is what to persist.
 */

type Miss = Extract<RingBackInput, { kind: 'ringNoAnswer' }>;

export class RingBackPolicy {
  private readonly book: ChangeBook;
  private readonly strategies = new Map<string, string>();
  private readonly misses = new Map<string, { iface: string; count: number; lastAt: number }>();
  /** Misses in queues whose strategy is not known yet (realtime queues, queues added after start). */
  private readonly deferred = new Map<string, Miss>();
  private readonly asked = new Set<string>();

  constructor(
    private cfg: RingBackConfig,
    state?: RingBackState,
  ) {
    this.book = new ChangeBook(cfg, state);
  }

  /**
   * SIGHUP: only the configuration changes. The records, what the reconcile has verified, the timers armed for
   * them, learned strategies and observed members stay: a new policy would wait for the next QueueStatus to act.
   */
  reconfigure(cfg: RingBackConfig): void {
    this.cfg = cfg;
    this.book.cfg = cfg;
  }

  handle(input: RingBackInput): RingBackEffect[] {
    const book = this.book;
    book.out = new Out();
    switch (input.kind) {
      case 'queueParams':
        this.learnStrategy(input.queue, input.strategy);
        this.flushDeferred();
        break;
      case 'ringNoAnswer':
        this.onMiss(input);
        break;
      case 'agentConnect':
        this.onAnswer(input.iface, input.at);
        break;
      case 'memberPause':
        onMemberPause(book, input);
        break;
      case 'memberPenalty':
        onMemberPenalty(book, input);
        break;
      case 'memberAdded': {
        const m = input.member;
        book.ledger.observe(m.queue, m.iface, { paused: m.paused, reason: m.reason, penalty: m.penalty }, input.at);
        break;
      }
      case 'memberRemoved':
        this.onRemoved(input.queue, input.iface);
        break;
      case 'timer':
        this.onTimer(input.id, input.at);
        break;
      case 'actionResult':
        onActionResult(book, input);
        break;
      case 'reconcile':
        this.asked.clear();
        for (const q of input.queues) this.learnStrategy(q.queue, q.strategy);
        reconcile(book, input);
        this.flushDeferred();
        break;
      case 'release':
        release(book, input.at);
        break;
      case 'releaseMember':
        this.onReleaseMember(input.queue, input.iface, input.at);
        break;
    }
    return book.out.take();
  }

  /** What to persist: the changes we hold and the escalation memory. */
  snapshot(): RingBackState {
    return this.book.ledger.snapshot();
  }

  /** true / false, or undefined while the queue's strategy is unknown. */
  applies(queue: string): boolean | undefined {
    if (!this.cfg.enabled) return false;
    const mode = Object.hasOwn(this.cfg.queues, queue) ? this.cfg.queues[queue] : 'auto';
    if (mode === 'on' || mode === 'off') return mode === 'on';
    const strategy = this.strategies.get(queue);
    return strategy === undefined ? undefined : (this.cfg.strategies as readonly string[]).includes(strategy);
  }

  private onMiss(i: Miss): void {
    if (i.ringTimeMs < this.cfg.minRingTimeMs) {
      // BUSY/CONGESTION also end in AgentRingNoAnswer, with RingTime 0: the member did not fail to answer.
      this.book.out.log('debug', 'skipped', { ...i, policy: this.cfg.policy }, 'busy', { detail: `RingTime ${i.ringTimeMs} ms` });
      return;
    }
    const applies = this.applies(i.queue);
    if (applies === undefined) {
      this.deferred.set(memberKey(i.queue, i.iface), i);
      if (!this.asked.has(i.queue)) this.book.out.push({ type: 'queryQueue', queue: i.queue });
      this.asked.add(i.queue);
    } else if (applies) {
      this.countMiss(i);
    }
  }

  private countMiss(i: Miss): void {
    const { cfg, book } = this;
    // A miss while our change stands comes from a ring that started before it took hold.
    if (book.get(cfg.policy, i.queue, i.iface) !== undefined) return;
    const who = { ...i, policy: cfg.policy };
    const mk = memberKey(i.queue, i.iface);
    const prev = this.misses.get(mk);
    const count = (prev !== undefined && i.at - prev.lastAt <= cfg.escalation.resetAfterSec * 1000 ? prev.count : 0) + 1;
    if (count < cfg.missesBeforeAction) {
      this.misses.set(mk, { iface: i.iface, count, lastAt: i.at });
      book.out.log('debug', 'skipped', who, 'missCounted', { detail: `miss ${count} of ${cfg.missesBeforeAction}` });
      return;
    }
    this.misses.delete(mk);
    const seen = book.ledger.observed.get(mk);
    if (seen?.paused === true) {
      // Paused already (autopause pauses for this very miss, and its event may come first): pausing again would
      // overwrite their reason and our undo would end their pause; a penalty on a paused member does nothing.
      book.out.log('info', 'skipped', who, 'alreadyPaused', { detail: `paused with reason "${seen.reason ?? ''}"` });
    } else if (cfg.policy === 'penalty' && seen?.penalty === undefined) {
      // Restoring a guess would change an admin's setting: only a penalty Asterisk has shown us is put back.
      book.out.log('warn', 'skipped', who, 'penaltyUnknown', { detail: 'no QueueStatus or member event has shown its penalty yet' });
    } else {
      this.apply(i, seen?.penalty ?? 0);
    }
  }

  /** Record the change (saved before it is sent), send it, arm its cooldown. */
  private apply(i: Miss, currentPenalty: number): void {
    const { cfg, book } = this;
    const { ledger } = book;
    const mk = memberKey(i.queue, i.iface);
    const lastStrike = ledger.strikes.get(mk);
    const level = ledger.nextLevel(i.queue, i.iface, i.at, cfg);
    const ms = cooldownMs(level, cfg);
    const change: RingBackChange = {
      ...{ queue: i.queue, iface: i.iface, memberName: i.memberName, policy: cfg.policy },
      ...{ phase: 'applying', acked: false, changedAt: i.at, until: i.at + ms, cooldownMs: ms, level },
      ...(cfg.policy === 'pause' ? { reason: cfg.reason } : {}),
    };
    const strike: RingBackStrike = { queue: i.queue, iface: i.iface, level, lastAt: i.at };
    if (cfg.policy === 'penalty') {
      // Our previous raise may be reported late (events trail responses): never take it for the base penalty.
      const echo = lastStrike?.raisedTo !== undefined && currentPenalty === lastStrike.raisedTo;
      const restoreTo = echo ? (lastStrike?.restoreTo ?? 0) : currentPenalty;
      Object.assign(change, { restoreTo, raisedTo: restoreTo + cfg.penaltyRaise });
      Object.assign(strike, { restoreTo, raisedTo: restoreTo + cfg.penaltyRaise });
    }
    ledger.strikes.set(mk, strike);
    book.add(change);
    if (change.policy === 'pause') {
      book.out.push({ type: 'pause', queue: i.queue, iface: i.iface, reason: book.reasonOf(change), cooldownMs: ms });
    } else {
      const restoreTo = change.restoreTo ?? 0;
      book.out.push({ type: 'setPenalty', queue: i.queue, iface: i.iface, penalty: change.raisedTo ?? 0, purpose: 'raise', restoreTo });
    }
    book.arm(change);
  }

  /** Answering anywhere proves the agent is at the phone: undo every change on that interface, reset the count. */
  private onAnswer(iface: string, at: number): void {
    const { book } = this;
    for (const c of book.ledger.changesOf((c) => c.iface === iface)) {
      if (c.phase !== 'undoing' && book.isVerified(c)) book.undo(c, 'answered', at);
    }
    for (const [k, m] of this.misses) if (m.iface === iface) this.misses.delete(k);
    for (const [k, s] of book.ledger.strikes) {
      if (s.iface !== iface) continue;
      book.ledger.strikes.delete(k);
      book.out.dirty();
    }
  }

  /**
   * Undone now as if its cooldown were over, through the same undo (so someone else's later pause is still never
   * ended). A change read from disk and not yet verified waits for the reconcile, as every undo does.
   */
  private onReleaseMember(queue: string, iface: string, at: number): void {
    const { book } = this;
    for (const c of book.ledger.changesOf((c) => c.queue === queue && c.iface === iface)) {
      if (c.phase !== 'undoing' && book.isVerified(c)) book.undo(c, 'released', at);
    }
  }

  /** Logged out: the membership, and our change with it, is gone; nothing to send. */
  private onRemoved(queue: string, iface: string): void {
    for (const c of this.book.ledger.changesOf((c) => c.queue === queue && c.iface === iface)) {
      this.book.forget(c, 'forgotten', 'info', 'memberRemoved');
    }
    this.book.ledger.observed.delete(memberKey(queue, iface));
    this.misses.delete(memberKey(queue, iface));
  }

  private onTimer(id: string, at: number): void {
    const c = this.book.ledger.changes.get(id);
    if (c === undefined || !this.book.isVerified(c)) return;
    if (c.phase === 'undoing') this.book.sendUndo(c); // a timed-out undo, again
    else if (at < c.until) this.book.arm(c); // fired early: long delays are clamped at the edge
    else this.book.undo(c, 'cooldownOver', at, false);
  }

  private learnStrategy(queue: string, strategy: string): void {
    this.strategies.set(queue, strategy.toLowerCase());
    this.asked.delete(queue);
  }

  private flushDeferred(): void {
    for (const [k, miss] of this.deferred) {
      const applies = this.applies(miss.queue);
      if (applies === undefined) continue;
      this.deferred.delete(k);
      if (applies) this.countMiss(miss);
    }
  }
}

/** Timer ids are change keys; exported for tests that drive timers by hand. */
export function timerIdOf(c: Pick<RingBackChange, 'policy' | 'queue' | 'iface'>): string {
  return changeKey(c.policy, c.queue, c.iface);
}
