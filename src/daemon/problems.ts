/**
 * What the daemon itself found wrong while running, by kind, for /healthz and `check`: typed entries instead of
 * matching the wording of a last error. A kind is set while its problem lasts and cleared when it is over. What can
 * be read off another part's state (parked commands, the application's authorisation) is derived there, not kept here.
 */

export type ProblemKind =
  /** The state store cannot be written (disk full, read-only): serving from memory. */
  | 'store'
  /** A request failed and is being retried (cleared by the next delivery). */
  | 'retrying'
  /** The speech-to-text server failed transcripts back to back (a warning: calls are unaffected). */
  | 'transcripts';

export interface Problem {
  kind: ProblemKind;
  text: string;
  /** Degrades /healthz (HTTP 503) when true; a warning only otherwise. */
  degrading: boolean;
}

export class Problems {
  private readonly current = new Map<ProblemKind, Problem>();

  set(kind: ProblemKind, text: string, degrading = true): void {
    this.current.set(kind, { kind, text, degrading });
  }

  clear(kind: ProblemKind): void {
    this.current.delete(kind);
  }

  list(): Problem[] {
    return [...this.current.values()];
  }
}
