/**
 * The offline event queue (b_rest_event_offline) as source rest/lib/eventoffline.php keeps it:
 * - MESSAGE_ID = md5(EVENT_NAME|json(EVENT_DATA)); a new event merges into an existing row with the same
 *   MESSAGE_ID that no reader has marked yet (PROCESS_ID ''): data, additional and TIMESTAMP_X are replaced;
 * - a reader with clear=0 marks up to `limit` unmarked rows with a fresh 32-character process id; marked rows are
 *   invisible to other readers until event.offline.clear deletes them. Marks never time out (the source only purges
 *   rows older than 30 days).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Params } from '../php.js';
import { matches, sortRows, type Condition, type RowValue, type Sort } from './row-filter.js';

export interface OfflineRow {
  id: number;
  /** TIMESTAMP_X (ms). */
  at: number;
  messageId: string;
  eventName: string;
  data: Params;
  additional: Params;
  processId: string;
  error: 0 | 1;
}

export const GET_FIELDS = ['ID', 'TIMESTAMP_X', 'EVENT_NAME', 'MESSAGE_ID'] as const;
export const LIST_FIELDS = [...GET_FIELDS, 'PROCESS_ID', 'ERROR'] as const;

export function readField(row: OfflineRow, field: string): RowValue {
  switch (field) {
    case 'ID': return row.id;
    case 'TIMESTAMP_X': return row.at;
    case 'EVENT_NAME': return row.eventName;
    case 'MESSAGE_ID': return row.messageId;
    case 'PROCESS_ID': return row.processId;
    default: return row.error;
  }
}

/** EventOfflineTable::getMessageId. JSON.stringify stands in for Bitrix's Json::encode (slashes are not escaped). */
export function messageIdOf(eventName: string, data: Params): string {
  return createHash('md5').update(`${eventName}|${JSON.stringify(data)}`).digest('hex');
}

export interface Selection {
  conditions: readonly Condition[];
  sorts: readonly Sort[];
  coerce: (field: string, value: unknown) => RowValue | null;
}

export class OfflineQueue {
  private rows: OfflineRow[] = [];
  private nextId = 0;

  constructor(private readonly clock: () => number) {}

  /** EventOfflineTable::callEvent: insert, or merge into the unmarked row with the same MESSAGE_ID. */
  push(eventName: string, data: Params, additional: Params): OfflineRow {
    const messageId = messageIdOf(eventName, data);
    // TIMESTAMP_X is a DB datetime: whole seconds.
    const now = Math.floor(this.clock() / 1000) * 1000;
    const open = this.rows.find((r) => r.messageId === messageId && r.processId === '');
    if (open) {
      open.at = now;
      open.data = data;
      open.additional = additional;
      return open;
    }
    const row: OfflineRow = { id: ++this.nextId, at: now, messageId, eventName, data, additional, processId: '', error: 0 };
    this.rows.push(row);
    return row;
  }

  /** EventOfflineTable::markEvents: marks up to `limit` unmarked rows and returns the new process id. */
  mark(selection: Selection, limit: number, error: 0 | 1): string {
    const processId = randomBytes(16).toString('hex');
    const open = this.rows.filter((r) => r.processId === '' && r.error === error && this.selected(r, selection));
    for (const row of this.sorted(open, selection.sorts).slice(0, limit)) row.processId = processId;
    return processId;
  }

  /** Rows of one process, in the requested order. */
  ofProcess(processId: string, selection: Selection, limit: number, error: 0 | 1): OfflineRow[] {
    const rows = this.rows.filter((r) => r.processId === processId && r.error === error && this.selected(r, selection));
    return this.sorted(rows, selection.sorts).slice(0, limit);
  }

  /** EventOfflineTable::clearEvents / clearEventsByMessageId: only rows marked with this process id go. */
  clear(processId: string, ids?: readonly number[], messageIds?: readonly string[]): number {
    const before = this.rows.length;
    this.rows = this.rows.filter(
      (r) =>
        !(
          r.processId === processId &&
          (ids === undefined || ids.includes(r.id)) &&
          (messageIds === undefined || messageIds.includes(r.messageId))
        ),
    );
    return before - this.rows.length;
  }

  /** event.offline.list: everything, marked or not. */
  list(selection: Selection): OfflineRow[] {
    return this.sorted(this.rows.filter((r) => this.selected(r, selection)), selection.sorts);
  }

  /** Test control: forget the marks of one process (or all), as if the reader had crashed and an admin reset them. */
  releaseMarks(processId?: string): number {
    let released = 0;
    for (const row of this.rows) {
      if (row.processId !== '' && (processId === undefined || row.processId === processId)) {
        row.processId = '';
        released++;
      }
    }
    return released;
  }

  /** All rows in ID order (a copy), for assertions. */
  snapshot(): OfflineRow[] {
    return this.rows.map((r) => ({ ...r }));
  }

  /** An app update or removal deletes its offline rows too (CRestUtil::CleanApp). */
  clearAll(): void {
    this.rows = [];
  }

  private selected(row: OfflineRow, selection: Selection): boolean {
    return matches((field) => readField(row, field), selection.conditions, selection.coerce);
  }

  private sorted(rows: OfflineRow[], sorts: readonly Sort[]): OfflineRow[] {
    return sortRows(rows, sorts, readField, (r) => r.id);
  }
}
