import type { Effect } from '../core/effects.js';
import type { TrackerSnapshot } from '../core/snapshot.js';
import type { CallTracker } from '../core/tracker.js';
import { kvGet, kvSet, type StateDb } from '../store/db.js';
import type { TurnWriter } from '../store/limiter-state.js';

/**
 * When the core's state is saved, so that a restart (even kill -9) resumes the calls in flight:
 * - a turn that registers a call or pops a card saves it in the same transaction as those commands (after a
 *   kill -9 the restart knows every call it registered). Not every turn: one save costs 0.2-3 ms with 10-500
 *   calls in progress (bench/diag/snapshot-cost.ts, 2026-12-04);
 * - every second when events came in since the last save; and at stop.
 */

const SNAPSHOT_KEY = 'core.snapshot';
const CARD_TURN: ReadonlySet<Effect['type']> = new Set(['register', 'bindCallId', 'show']);

export interface CoreStateOptions {
  db: StateDb | undefined;
  /** The state store's turn (none without a database): the snapshot commits with the turn's commands. */
  turnWriter: TurnWriter | undefined;
  tracker: CallTracker;
  clock: () => number;
  /** A save failed (the store's own failures are reported by the store). */
  onSaveError: (err: Error) => void;
}

export class CoreState {
  private savedAtEvents = -1;

  constructor(private readonly opts: CoreStateOptions) {}

  /** The snapshot the previous run left, if any. */
  load(): TrackerSnapshot | undefined {
    const saved = this.opts.db ? kvGet<TrackerSnapshot>(this.opts.db, SNAPSHOT_KEY) : undefined;
    return saved?.version === 1 ? saved : undefined;
  }

  /** After a turn's effects were performed: card-popping turns save in the turn's own transaction. */
  afterTurn(effects: readonly Effect[]): void {
    const writer = this.opts.turnWriter;
    if (!writer || !effects.some((e) => CARD_TURN.has(e.type))) return;
    writer.putKvThisTurn(SNAPSHOT_KEY, () => this.opts.tracker.exportState(), this.opts.clock());
  }

  /** The 1 s timer: saves when events came in since the last save. */
  tick(eventsSoFar: number): void {
    if (eventsSoFar === this.savedAtEvents) return;
    this.savedAtEvents = eventsSoFar;
    this.save();
  }

  save(): void {
    if (!this.opts.db) return;
    try {
      kvSet(this.opts.db, SNAPSHOT_KEY, this.opts.tracker.exportState(), this.opts.clock());
    } catch (err) {
      this.opts.onSaveError(err as Error);
    }
  }
}
