/**
 * The application's event handlers (b_rest_event), as event.bind / event.get / event.unbind see them
 * (source rest/lib/event.php EventTable, rest/lib/api/event.php). An offline binding has an empty handler.
 */

export interface Binding {
  /** Sent to online handlers as `event_handler_id`. */
  id: number;
  /** Upper-cased event name. */
  event: string;
  /** '' for an offline binding. */
  handler: string;
  /** AUTH_TYPE: 0 = the user who triggered the event. */
  userId: number;
  connectorId: string;
}

export class Bindings {
  private rows: Binding[] = [];
  private nextId = 0;

  /** EventTable::checkUniq: same app, event, handler, user and connector → "Handler already binded". */
  add(fields: Omit<Binding, 'id'>): Binding | 'duplicate' {
    const same = this.rows.some(
      (b) =>
        b.event === fields.event &&
        b.handler === fields.handler &&
        b.userId === fields.userId &&
        b.connectorId === fields.connectorId,
    );
    if (same) return 'duplicate';
    const row = { id: ++this.nextId, ...fields };
    this.rows.push(row);
    return row;
  }

  /** In ID order, as event.get lists them. */
  list(): readonly Binding[] {
    return this.rows;
  }

  forEvent(event: string): Binding[] {
    return this.rows.filter((b) => b.event === event);
  }

  /** Deletes the matching rows and returns how many went. */
  remove(match: (b: Binding) => boolean): number {
    const before = this.rows.length;
    this.rows = this.rows.filter((b) => !match(b));
    return before - this.rows.length;
  }

  /** An app update or removal (CRestUtil::CleanApp → EventTable::deleteByApp). */
  clear(): void {
    this.rows = [];
  }
}
