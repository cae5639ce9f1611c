/**
 * Fault injection: failed responses, a portal that is down (HTTP status,
 * connection reset, or a hang that never answers) and its recovery, and
 * answers lost after the work was done (lost-answers.ts).
 */
import { LostAnswers, type LoseAnswerOptions } from './lost-answers.js';
import type { Params } from './php.js';

export type { LoseAnswerOptions };

export interface FailureSpec {
  status?: number;
  error?: string;
  error_description?: string;
}

export type DownMode = number | 'reset' | 'hang';

/** The controls tests and the demo use. */
export interface FaultControls {
  /** The next `n` HTTP requests get this JSON error instead of being executed. */
  failNext(n: number, spec?: FailureSpec): void;
  /**
   * Take the portal down until `setUp()` or until the emulator clock reaches
   * `untilMs` (an absolute clock time in ms, not a duration).
   */
  setDown(mode?: DownMode, untilMs?: number): void;
  setUp(): void;
  /** Requests hang (no answer at all) for `ms` of emulator-clock time. */
  hangFor(ms: number): void;
  /**
   * Up to `n` qualifying REST requests (Infinity: until `clear`) are executed completely, then the connection is
   * reset without an answer. Without options every REST request qualifies.
   */
  loseAnswers(n: number, options?: LoseAnswerOptions): void;
  /** How many answers were lost so far. */
  readonly lostAnswers: number;
}

export type FaultDecision =
  | { kind: 'reset' }
  | { kind: 'hang' }
  | { kind: 'down'; status: number }
  | { kind: 'fail'; status: number; body: { error: string; error_description: string } };

const POLL_MS = 20;

export class Faults implements FaultControls {
  private down: { mode: DownMode; until: number | undefined } | null = null;
  private readonly failures: Array<Required<FailureSpec>> = [];
  private readonly waiters = new Set<() => void>();
  private poll: NodeJS.Timeout | undefined;
  private readonly lost = new LostAnswers();

  constructor(private readonly clock: () => number) {}

  loseAnswers(n: number, options?: LoseAnswerOptions): void {
    this.lost.add(n, options);
  }

  get lostAnswers(): number {
    return this.lost.lost;
  }

  /** After execution: whether to reset instead of answering. */
  loseAnswer(method: string, params: Params): boolean {
    return this.lost.take(method, params);
  }

  failNext(n: number, spec: FailureSpec = {}): void {
    const full: Required<FailureSpec> = {
      status: spec.status ?? 500,
      error: spec.error ?? 'INTERNAL_SERVER_ERROR',
      error_description: spec.error_description ?? 'Internal server error',
    };
    for (let i = 0; i < n; i++) this.failures.push(full);
  }

  setDown(mode: DownMode = 503, untilMs?: number): void {
    this.down = { mode, until: untilMs };
    this.ensurePoll();
  }

  setUp(): void {
    this.down = null;
    this.releaseAll();
  }

  hangFor(ms: number): void {
    this.setDown('hang', this.clock() + ms);
  }

  /** Decides what happens to an incoming request; consumes one queued failure. */
  decide(): FaultDecision | null {
    const down = this.currentDown();
    if (down) {
      if (down.mode === 'reset') return { kind: 'reset' };
      if (down.mode === 'hang') return { kind: 'hang' };
      return { kind: 'down', status: down.mode };
    }
    const failure = this.failures.shift();
    if (failure) {
      return {
        kind: 'fail',
        status: failure.status,
        body: { error: failure.error, error_description: failure.error_description },
      };
    }
    return null;
  }

  /**
   * What a request meets, hangs waited out: null when the connection is gone (reset, or the client gave up or the
   * emulator closed during a hang: nothing is answered then), else the fault left to apply (none, down, fail).
   */
  async admit(socket: { destroyed: boolean; destroy(): void; resetAndDestroy(): void }, isClosing: () => boolean): Promise<FaultDecision | undefined | null> {
    let fault = this.decide();
    if (fault?.kind === 'hang') {
      await this.waitForUp();
      if (isClosing() || socket.destroyed) {
        socket.destroy();
        return null;
      }
      fault = null;
    }
    if (fault?.kind === 'reset') {
      socket.resetAndDestroy();
      return null;
    }
    return fault ?? undefined;
  }

  /** Resolves when the hang ends (setUp, deadline, or dispose). */
  waitForUp(): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.add(resolve);
      this.ensurePoll();
    });
  }

  clear(): void {
    this.failures.length = 0;
    this.lost.clear();
    this.setUp();
  }

  dispose(): void {
    this.failures.length = 0;
    this.lost.clear();
    this.down = null;
    this.releaseAll();
  }

  private currentDown() {
    if (this.down && this.down.until !== undefined && this.clock() >= this.down.until) this.setUp();
    return this.down;
  }

  private releaseAll(): void {
    for (const resolve of this.waiters) resolve();
    this.waiters.clear();
    if (this.poll) clearInterval(this.poll);
    this.poll = undefined;
  }

  // The clock may be fake, so a deadline is noticed by polling it, not by a timer.
  private ensurePoll(): void {
    if (this.poll || this.waiters.size === 0 || this.down?.until === undefined) return;
    this.poll = setInterval(() => this.currentDown(), POLL_MS);
    this.poll.unref();
  }
}
