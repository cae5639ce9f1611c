import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/**
 * The state database under state.dir: the outbox, CALL_IDs, idempotency marks, parked commands, the core's
 * snapshot and small key-value state. WAL with synchronous=NORMAL: a kill -9 loses nothing committed (the WAL
 * is in the page cache); a power cut may lose the last moments, which the AMI resync then repairs.
 */
export type StateDb = Database.Database;

export class StateDirError extends Error {
  constructor(
    readonly dir: string,
    readonly code: string,
    detail: string,
  ) {
    super(`state directory ${dir} is not usable (${code}): ${detail}`);
    this.name = 'StateDirError';
  }
}

const MIGRATIONS = [
  `CREATE TABLE outbox (seq INTEGER PRIMARY KEY, key TEXT NOT NULL, kind TEXT NOT NULL, method TEXT NOT NULL,
     params TEXT NOT NULL, needs_call_id INTEGER NOT NULL, attempts INTEGER NOT NULL, not_before INTEGER NOT NULL,
     created_at INTEGER NOT NULL, last_error TEXT, uncertain INTEGER NOT NULL DEFAULT 0)`,
  `CREATE TABLE parked (seq INTEGER PRIMARY KEY, entry TEXT NOT NULL, error TEXT NOT NULL, parked_at INTEGER NOT NULL)`,
  `CREATE TABLE call_ids (key TEXT PRIMARY KEY, call_id TEXT NOT NULL)`,
  `CREATE TABLE marks (key TEXT NOT NULL, kind TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (key, kind))`,
  `CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL)`,
  `CREATE TABLE retry_requests (seq INTEGER PRIMARY KEY)`,
  // The extension a register's or finish's USER_ID stands in for, looked up again before it leaves.
  `ALTER TABLE outbox ADD COLUMN user_ext TEXT`,
  // Recordings waiting for their transcript (src/transcripts/jobs.ts): one per call, until it is in the outbox.
  `CREATE TABLE transcript_jobs (linkedid TEXT PRIMARY KEY, job TEXT NOT NULL, attempts INTEGER NOT NULL,
     not_before INTEGER NOT NULL, created_at INTEGER NOT NULL, last_error TEXT)`,
];

export function openStateDb(dir: string, file = 'bridge.db'): StateDb {
  let db: StateDb;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    const path = join(dir, file);
    db = new Database(path);
    // Call data and the application's OAuth tokens: the service's own user only, whatever the umask. A WAL or shared
    // memory file an older run left keeps its own mode, so they are set too (new ones copy the database's).
    for (const f of [path, `${path}-wal`, `${path}-shm`]) if (f === path || existsSync(f)) chmodSync(f, 0o600);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 2000');
    migrate(db);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { code?: string };
    throw new StateDirError(dir, e.code ?? 'UNKNOWN', e.message);
  }
  return db;
}

function migrate(db: StateDb): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  // Up to date: no write at all, so a second connection (the parked CLI) never waits for the daemon's lock.
  if (version >= MIGRATIONS.length) return;
  const apply = db.transaction(() => {
    for (let v = version; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  });
  apply();
}

/** Small JSON values (the core's snapshot, ring-back state) by key. */
export function kvGet<T>(db: StateDb, key: string): T | undefined {
  const row = db.prepare('SELECT value FROM kv WHERE key = ?').get(key) as { value: string } | undefined;
  return row ? (JSON.parse(row.value) as T) : undefined;
}

export function kvSet(db: StateDb, key: string, value: unknown, at: number): void {
  db.prepare('INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at').run(
    key,
    JSON.stringify(value),
    at,
  );
}
