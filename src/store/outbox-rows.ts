import type { OutboxEntry, ParkedEntry } from '../bitrix/outbox-entry.js';

/** The outbox's rows in SQLite (src/store/db.ts has the tables) and the entries they hold, both ways. */

export interface Row {
  seq: number;
  key: string;
  kind: OutboxEntry['kind'];
  method: string;
  params: string;
  needs_call_id: number;
  attempts: number;
  not_before: number;
  created_at: number;
  last_error: string | null;
  uncertain: number;
  user_ext: string | null;
}

export interface ParkedRow {
  entry: string;
  error: string;
  parked_at: number;
}

export function toRow(e: OutboxEntry) {
  return {
    seq: e.seq,
    key: e.key,
    kind: e.kind,
    method: e.method,
    params: JSON.stringify(e.params),
    needsCallId: e.needsCallId ? 1 : 0,
    attempts: e.attempts,
    notBefore: e.notBefore,
    createdAt: e.createdAt,
    lastError: e.lastError ?? null,
    uncertain: e.uncertain ? 1 : 0,
    userExt: e.userExt ?? null,
  };
}

export function fromRow(r: Row): OutboxEntry {
  return {
    seq: r.seq,
    key: r.key,
    kind: r.kind,
    method: r.method,
    params: JSON.parse(r.params) as Record<string, unknown>,
    needsCallId: r.needs_call_id === 1,
    attempts: r.attempts,
    notBefore: r.not_before,
    createdAt: r.created_at,
    ...(r.last_error ? { lastError: r.last_error } : {}),
    ...(r.uncertain ? { uncertain: true } : {}),
    ...(r.user_ext !== null ? { userExt: r.user_ext } : {}),
  };
}

export function fromParked(r: ParkedRow): ParkedEntry {
  return { ...(JSON.parse(r.entry) as OutboxEntry), error: r.error, parkedAt: r.parked_at };
}
