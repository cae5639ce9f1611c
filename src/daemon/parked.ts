import type { Outbox } from '../bitrix/outbox.js';
import type { Config } from '../config/schema.js';
import { openStateDb } from '../store/db.js';

/**
 * What the running daemon does with a `parked --retry` request (taken from the database every 5 s) and with the
 * live view's retry: the same rule in one place. Every asked seq must be parked, or nothing is retried (the CLI's
 * rule too); all: every parked command whose register is not parked (those come back with their register).
 */
export function retryParkedCommands(outbox: Pick<Outbox, 'parkedEntries' | 'retryParked'>, wanted: readonly number[] | 'all'): { retried: number[]; unknown: number[] } {
  const parked = outbox.parkedEntries();
  // A set, not a scan per command: up to outbox.maxParked (10 000) may be parked.
  const isParked = new Set(parked.map((p) => p.seq));
  const seqs = wanted === 'all' ? parked.filter((p) => p.dependsOn === undefined || !isParked.has(p.dependsOn)).map((p) => p.seq) : [...new Set(wanted)];
  const unknown = seqs.filter((seq) => !isParked.has(seq));
  if (unknown.length > 0) return { retried: [], unknown };
  const retried: number[] = [];
  for (const seq of seqs) if (outbox.retryParked(seq)) retried.push(seq);
  return { retried, unknown: [] };
}

/**
 * `parked`: lists the Bitrix24 commands the portal rejected (contract errors) and asks for retries.
 * The running daemon picks requests up within 5 s (or at its next start): the CLI never sends anything itself,
 * so a command is never delivered twice by two processes.
 */
export function runParked(config: Config, opts: { retry?: string[]; retryAll?: boolean }, print: (line: string) => void): number {
  const db = openStateDb(config.state.dir);
  try {
    const rows = db.prepare('SELECT seq, entry, error, parked_at FROM parked ORDER BY seq').all() as Array<{ seq: number; entry: string; error: string; parked_at: number }>;
    const wanted = opts.retryAll ? rows.map((r) => r.seq) : (opts.retry ?? []).map(Number);
    const unknown = wanted.filter((seq) => !rows.some((r) => r.seq === seq));
    if (unknown.length > 0) {
      print(`no parked command with seq ${unknown.join(', ')}`);
      return 1;
    }
    if (wanted.length > 0) {
      const insert = db.prepare('INSERT OR IGNORE INTO retry_requests (seq) VALUES (?)');
      db.transaction(() => wanted.forEach((seq) => insert.run(seq)))();
      print(`asked the daemon to retry ${wanted.length} command(s): ${wanted.join(', ')} (taken within 5 s, or at its next start)`);
      return 0;
    }
    if (rows.length === 0) {
      print('no parked commands');
      return 0;
    }
    print('seq\tparked at\t\t\tcall (Linkedid)\tmethod\terror');
    for (const r of rows) {
      const e = JSON.parse(r.entry) as { key: string; method: string };
      print(`${r.seq}\t${new Date(r.parked_at).toISOString()}\t${e.key}\t${e.method}\t${r.error}`);
    }
    print(`${rows.length} parked; retry with: asterisk-b24-bridge parked --config FILE --retry <seq...> | --retry-all`);
    return 0;
  } finally {
    db.close();
  }
}
