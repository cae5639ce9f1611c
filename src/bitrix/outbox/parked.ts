import type { EntryKind, OutboxStore, ParkedEntry } from '../outbox-entry.js';

/**
 * Commands parked after errors retrying cannot fix, grouped per call: a call whose register is parked has every
 * later command that needs its CALL_ID parked with it (`dependsOn`), and they come back together, in order.
 * Bounded: past `max` the oldest are dropped (a register with its dependents: they are useless without it).
 */
export interface ParkedLog {
  warn(obj: object, msg: string): void;
}

export class ParkedCommands {
  private readonly bySeq = new Map<number, ParkedEntry>();
  /** Linkedid -> seq of its parked register. */
  private readonly registers = new Map<string, number>();

  constructor(
    private readonly store: OutboxStore,
    private readonly log: ParkedLog,
    private readonly max: number,
    private readonly onDropped: (kind: EntryKind) => void,
  ) {}

  get size(): number {
    return this.bySeq.size;
  }

  /** What a previous run parked (no store writes). */
  restore(list: readonly ParkedEntry[]): void {
    for (const p of list) this.index(p);
  }

  entries(): ParkedEntry[] {
    return [...this.bySeq.values()].sort((a, b) => a.seq - b.seq);
  }

  /** This call's parked register, if there is one. */
  registerOf(key: string): ParkedEntry | undefined {
    const seq = this.registers.get(key);
    return seq === undefined ? undefined : this.bySeq.get(seq);
  }

  add(p: ParkedEntry): void {
    this.index(p);
    this.store.park(p);
    if (this.bySeq.size > this.max) this.dropOldest();
  }

  /**
   * Takes a parked command out to be sent again, with its group: a register brings its dependents, a dependent
   * brings its register (alone it would wait forever for a CALL_ID). Seq order; [] when nothing is parked there.
   */
  take(seq: number): ParkedEntry[] {
    const p = this.bySeq.get(seq) ?? this.store.unpark(seq);
    if (!p) return [];
    const registerSeq = p.kind === 'register' ? p.seq : p.dependsOn !== undefined && this.bySeq.has(p.dependsOn) ? p.dependsOn : undefined;
    const group = registerSeq === undefined ? [p] : this.groupOf(registerSeq);
    for (const e of group) this.forget(e);
    return group.sort((a, b) => a.seq - b.seq);
  }

  private groupOf(registerSeq: number): ParkedEntry[] {
    const reg = this.bySeq.get(registerSeq)!;
    return [reg, ...[...this.bySeq.values()].filter((e) => e.dependsOn === registerSeq)];
  }

  private index(p: ParkedEntry): void {
    this.bySeq.set(p.seq, p);
    if (p.kind === 'register') this.registers.set(p.key, p.seq);
  }

  private forget(p: ParkedEntry): void {
    this.bySeq.delete(p.seq);
    this.store.unpark(p.seq);
    if (p.kind === 'register' && this.registers.get(p.key) === p.seq) this.registers.delete(p.key);
  }

  private dropOldest(): void {
    let oldest: ParkedEntry | undefined;
    for (const p of this.bySeq.values()) if (!oldest || p.parkedAt < oldest.parkedAt || (p.parkedAt === oldest.parkedAt && p.seq < oldest.seq)) oldest = p;
    if (!oldest) return;
    const group = oldest.kind === 'register' ? this.groupOf(oldest.seq) : [oldest];
    for (const e of group) {
      this.forget(e);
      this.onDropped(e.kind);
    }
    this.log.warn(
      { max: this.max, dropped: group.map((e) => ({ seq: e.seq, key: e.key, method: e.method, error: e.error })) },
      'outbox: too many parked commands; the oldest dropped for good',
    );
  }
}
