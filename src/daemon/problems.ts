/**
 * What is wrong right now, by kind, for /healthz and `check`: typed entries instead of matching the wording of a
 * last error. A kind is set while its problem lasts and cleared when it is over; `advice` says what the admin does.
 */

export type ProblemKind =
  /** The state store cannot be written (disk full, read-only): serving from memory. */
  | 'store'
  /** A request failed and is being retried (cleared by the next delivery). */
  | 'retrying'
  /** A command was parked: it waits for an admin (`parked --retry`). */
  | 'parked'
  /** The portal refuses this webhook for telephony (WRONG_AUTH_TYPE): app mode is needed. */
  | 'authType'
  /** The portal refuses the webhook or the application's tokens: an admin must act. */
  | 'auth'
  /** The refresh token has not been used for long and will expire. */
  | 'authAging'
  /** Offline events are read and cleared at once (no rest_offline_extended): a crash can lose a click. */
  | 'events';

export interface Problem {
  kind: ProblemKind;
  text: string;
  /** Degrades /healthz (HTTP 503) when true; a warning only otherwise. */
  degrading: boolean;
  since: number;
}

export class Problems {
  private readonly current = new Map<ProblemKind, Problem>();

  constructor(private readonly clock: () => number) {}

  set(kind: ProblemKind, text: string, degrading = true): void {
    const previous = this.current.get(kind);
    this.current.set(kind, { kind, text, degrading, since: previous?.text === text ? previous.since : this.clock() });
  }

  clear(kind: ProblemKind): void {
    this.current.delete(kind);
  }

  has(kind: ProblemKind): boolean {
    return this.current.has(kind);
  }

  list(): Problem[] {
    return [...this.current.values()];
  }
}
