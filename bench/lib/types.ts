/** What every benchmark item returns: rows of the one table `bench/run.ts` prints. */

export type Met = 'yes' | 'no' | 'n/a';

export interface Goal {
  /** `<=`: the value must not exceed target; `>=`: it must reach it. */
  op: '<=' | '>=';
  target: number;
  /** As printed in the table, e.g. "<= 20 ms". */
  text: string;
}

export interface Row {
  item: string;
  measure: string;
  /** Formatted for the table. */
  value: string;
  /** Machine-readable value (null when not measured). */
  raw: number | null;
  unit: string;
  goal: string;
  met: Met;
  /** Shown under the table: how it was measured, caveats. */
  note?: string;
}

export interface BenchOptions {
  /** A fast smoke run: fewer copies, rounds and events. The numbers are indicative only. */
  quick: boolean;
  /** Progress lines (stderr), so stdout keeps only the table. */
  log: (line: string) => void;
}

export interface BenchModule {
  /** Rows for the table; a module whose feature is missing returns "not measured" rows, never made-up numbers. */
  run(opts: BenchOptions): Promise<Row[]>;
}

export function fmt(value: number, unit: string, digits?: number): string {
  const d = digits ?? (Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2);
  const n = value.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
  return unit ? `${n} ${unit}` : n;
}

/** A measured row; `goal` decides `met`. */
export function row(item: string, measure: string, raw: number, unit: string, goal?: Goal, note?: string, digits?: number): Row {
  const met: Met = goal === undefined ? 'n/a' : (goal.op === '<=' ? raw <= goal.target : raw >= goal.target) ? 'yes' : 'no';
  return { item, measure, value: fmt(raw, unit, digits), raw, unit, goal: goal?.text ?? '', met, ...(note ? { note } : {}) };
}

/** A row whose value is text (a count with context, a mode...). */
export function textRow(item: string, measure: string, value: string, opts: { raw?: number | null; unit?: string; goal?: string; met?: Met; note?: string } = {}): Row {
  return {
    item,
    measure,
    value,
    raw: opts.raw ?? null,
    unit: opts.unit ?? '',
    goal: opts.goal ?? '',
    met: opts.met ?? 'n/a',
    ...(opts.note ? { note: opts.note } : {}),
  };
}

export function notMeasured(item: string, measure: string, goal: string, why: string, note?: string): Row {
  return { item, measure, value: `not measured: ${why}`, raw: null, unit: '', goal, met: 'n/a', ...(note ? { note } : {}) };
}
