import type { OnceKind, OutboxEntry, OutboxStore, ParkedEntry } from '../bitrix/outbox-entry.js';
import { kvSet, type StateDb } from './db.js';
import { fromParked, fromRow, toRow, type ParkedRow, type Row } from './outbox-rows.js';

const DAY_MS = 86_400_000;

export interface StoreErrorSink {
  (err: Error, op: string): void;
}

/**
 * The outbox's durable memory. Every command is written before it is sent and deleted once delivered.
 * A write that fails (disk full, read-only) is reported and the daemon goes on from memory: calls keep
 * flowing, only the restart guarantee is lost until the disk recovers.
 */
export class SqliteOutboxStore implements OutboxStore {
  private readonly stmt;
  private open = false;
  /** A write failed and no commit has succeeded since: the durable copy lags the outbox's memory. */
  private failing = false;
  /** Marks whose write failed: still honoured (a call is registered and finished once) and written on recovery. */
  private readonly unwrittenMarks = new Map<string, Mark>();
  /** Marks written in this turn's transaction: a failed commit (where a full disk shows) makes them unwritten. */
  private readonly turnMarks = new Map<string, Mark>();
  /** Called once writes work again after failing: the owner rewrites what it holds (Outbox.persistAll). */
  onRecovered: (() => void) | undefined;
  /** Values written once at the end of the turn, computed then: the last state the turn left. */
  private readonly turnValues = new Map<string, { value: () => unknown; at: number }>();

  constructor(
    private readonly db: StateDb,
    private readonly onError: StoreErrorSink,
    now = Date.now(),
  ) {
    this.stmt = {
      put: db.prepare(
        `INSERT INTO outbox (seq, key, kind, method, params, needs_call_id, attempts, not_before, created_at, last_error, uncertain, user_ext)
         VALUES (@seq, @key, @kind, @method, @params, @needsCallId, @attempts, @notBefore, @createdAt, @lastError, @uncertain, @userExt)
         ON CONFLICT(seq) DO UPDATE SET params = excluded.params, attempts = excluded.attempts,
           not_before = excluded.not_before, last_error = excluded.last_error, uncertain = excluded.uncertain,
           user_ext = excluded.user_ext`,
      ),
      delete: db.prepare('DELETE FROM outbox WHERE seq = ?'),
      park: db.prepare('INSERT OR REPLACE INTO parked (seq, entry, error, parked_at) VALUES (?, ?, ?, ?)'),
      unparkGet: db.prepare('SELECT entry, error, parked_at FROM parked WHERE seq = ?'),
      unparkDel: db.prepare('DELETE FROM parked WHERE seq = ?'),
      setCallId: db.prepare('INSERT OR REPLACE INTO call_ids (key, call_id) VALUES (?, ?)'),
      deleteCallId: db.prepare('DELETE FROM call_ids WHERE key = ?'),
      mark: db.prepare('INSERT OR IGNORE INTO marks (key, kind, at) VALUES (?, ?, ?)'),
      isMarked: db.prepare('SELECT 1 FROM marks WHERE key = ? AND kind = ?'),
    };
    this.safe('prune', () => db.prepare('DELETE FROM marks WHERE at < ?').run(now - DAY_MS));
  }

  load() {
    const entries = (this.db.prepare('SELECT * FROM outbox ORDER BY seq').all() as Row[]).map(fromRow);
    const callIds = (this.db.prepare('SELECT key, call_id FROM call_ids').all() as Array<{ key: string; call_id: string }>).map(
      (r) => [r.key, r.call_id] as [string, string],
    );
    const parked = (this.db.prepare('SELECT entry, error, parked_at FROM parked ORDER BY seq').all() as ParkedRow[]).map(fromParked);
    return { entries, callIds, parked };
  }

  put(entry: OutboxEntry): void {
    this.safe('put', () => this.stmt.put.run(toRow(entry)));
  }
  delete(seq: number): void {
    this.safe('delete', () => this.stmt.delete.run(seq));
  }
  park(entry: ParkedEntry): void {
    this.safe('park', () =>
      this.db.transaction(() => {
        this.stmt.delete.run(entry.seq);
        const { parkedAt, error, ...rest } = entry;
        this.stmt.park.run(entry.seq, JSON.stringify(rest), error, parkedAt);
      })(),
    );
  }
  unpark(seq: number): ParkedEntry | undefined {
    let found: ParkedEntry | undefined;
    this.safe('unpark', () => {
      const row = this.stmt.unparkGet.get(seq) as ParkedRow | undefined;
      if (row) found = fromParked(row);
      this.stmt.unparkDel.run(seq);
    });
    return found;
  }
  setCallId(key: string, callId: string): void {
    this.safe('setCallId', () => this.stmt.setCallId.run(key, callId));
  }
  deleteCallId(key: string): void {
    this.safe('deleteCallId', () => this.stmt.deleteCallId.run(key));
  }
  mark(key: string, kind: OnceKind, at: number): void {
    const id = `${kind}:${key}`;
    if (this.safe('mark', () => this.stmt.mark.run(key, kind, at))) this.turnMarks.set(id, { key, kind, at });
    else this.unwrittenMarks.set(id, { key, kind, at });
  }
  isMarked(key: string, kind: OnceKind): boolean {
    if (this.unwrittenMarks.has(`${kind}:${key}`)) return true;
    let marked = false;
    // Unreadable marks count as absent: the portal's EXTERNAL_CALL_ID dedup still stands behind them.
    this.safe('isMarked', () => (marked = this.stmt.isMarked.get(key, kind) !== undefined));
    return marked;
  }

  /** Parked commands the `parked --retry` CLI asked to send again (it may run while the daemon does). */
  takeRetryRequests(): number[] {
    let seqs: number[] = [];
    this.safe('retryRequests', () =>
      this.db.transaction(() => {
        seqs = (this.db.prepare('SELECT seq FROM retry_requests').all() as Array<{ seq: number }>).map((r) => r.seq);
        this.db.prepare('DELETE FROM retry_requests').run();
      })(),
    );
    return seqs;
  }

  /**
   * One transaction per event-loop turn instead of one per statement: a ringing call's writes cost a fifth
   * (bench/diag/enqueue-cost.ts). It commits in the check phase of the same turn, before any timer can send
   * what it holds, so a command is still on disk before it leaves.
   */
  private begin(): void {
    if (this.open || this.db.inTransaction) return;
    this.db.exec('BEGIN');
    this.open = true;
    setImmediate(() => this.flush());
  }

  /**
   * Writes `value()` under kv `key` in this turn's transaction, with the commands the turn wrote: the core's
   * snapshot never lags the outbox (a call registered just before a kill -9 is still known after it).
   * Computed once at commit, however often asked in the turn.
   */
  putKvThisTurn(key: string, value: () => unknown, at: number): void {
    this.turnValues.set(key, { value, at });
    this.safe('kv', () => undefined);
  }

  /** Makes what this turn wrote so far durable now, before a request leaves; later writes start a new turn. */
  commit(): void {
    this.flush();
  }

  /** Commits what the current turn wrote (also called before the database is closed). */
  flush(): void {
    if (!this.open) return;
    this.open = false;
    for (const [key, { value, at }] of this.turnValues) {
      try {
        kvSet(this.db, key, value(), at);
      } catch (err) {
        this.failing = true;
        this.onError(err as Error, `kv ${key}`);
      }
    }
    this.turnValues.clear();
    try {
      this.db.exec('COMMIT');
      this.turnMarks.clear();
      if (this.failing) this.recover();
    } catch (err) {
      this.failing = true;
      for (const [id, m] of this.turnMarks) this.unwrittenMarks.set(id, m);
      this.turnMarks.clear();
      this.onError(err as Error, 'commit');
      try {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
      } catch {
        // Nothing more to do: the next turn starts a fresh transaction or reports again.
      }
    }
  }

  /**
   * Replaces the outbox, parked and CALL_ID tables with `state`, in one transaction (marks are only ever added).
   * A failure leaves the store failing: the next successful commit tries again.
   */
  replaceAll(state: { entries: OutboxEntry[]; callIds: Array<[string, string]>; parked: ParkedEntry[] }): void {
    try {
      this.db.transaction(() => {
        this.db.exec('DELETE FROM outbox; DELETE FROM parked; DELETE FROM call_ids;');
        for (const e of state.entries) this.stmt.put.run(toRow(e));
        for (const p of state.parked) {
          const { parkedAt, error, ...rest } = p;
          this.stmt.park.run(p.seq, JSON.stringify(rest), error, parkedAt);
        }
        for (const [key, callId] of state.callIds) this.stmt.setCallId.run(key, callId);
      })();
    } catch (err) {
      this.failing = true;
      this.onError(err as Error, 'rewrite');
    }
  }

  /** Writes work again: the marks kept in memory go to disk, then the owner rewrites its state. */
  private recover(): void {
    this.failing = false;
    try {
      this.db.transaction(() => {
        for (const m of this.unwrittenMarks.values()) this.stmt.mark.run(m.key, m.kind, m.at);
      })();
      this.unwrittenMarks.clear();
    } catch (err) {
      this.failing = true;
      this.onError(err as Error, 'marks');
      return;
    }
    this.onRecovered?.();
  }

  /** Runs one write in the turn's transaction; false (and reported) when it failed. */
  private safe(op: string, fn: () => unknown): boolean {
    try {
      this.begin();
      fn();
      return true;
    } catch (err) {
      this.failing = true;
      this.onError(err as Error, op);
      return false;
    }
  }
}

interface Mark {
  key: string;
  kind: OnceKind;
  at: number;
}
