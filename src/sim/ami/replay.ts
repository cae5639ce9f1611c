import type { AmiMessage } from '../../ami/types.js';
import type { AmiSimSession } from './session.js';
import type { TraceItem } from './trace.js';

/** Sends recorded trace items to sessions, all at once or at the pace of their Timestamps; stop() ends every replay. */
export class TraceReplayer {
  private readonly sleepers = new Set<() => void>();
  private stopped = false;

  /** `track` sees every message as it goes out (the simulator's live channels follow the replay). */
  constructor(private readonly track: (msg: AmiMessage) => void) {}

  /**
   * `speed` 1 = real time from the events' Timestamp headers; 0 or Infinity = as fast as possible.
   * `targets` returns null when the replay should stop (its session is gone).
   */
  async replayTo(targets: () => AmiSimSession[] | null, items: TraceItem[], speed: number): Promise<void> {
    if (!(speed > 0 && Number.isFinite(speed))) {
      const all = Buffer.concat(items.map((i) => i.raw));
      for (const i of items) this.track(i.message);
      for (const s of targets() ?? []) s.sendRaw(all);
      return;
    }
    // An absolute timeline: events already due go out together, so timer granularity never adds up to drift.
    let firstTs: number | undefined;
    const start = Date.now();
    for (const item of items) {
      const ts = Number(item.message['Timestamp']);
      if (Number.isFinite(ts)) {
        firstTs ??= ts;
        const wait = start + ((ts - firstTs) * 1000) / speed - Date.now();
        if (wait >= 1) await this.sleep(wait);
      }
      const to = targets();
      if (this.stopped || to === null) return;
      this.track(item.message);
      for (const s of to) s.sendRaw(item.raw);
    }
  }

  /** Wakes every replay that waits and ends it. */
  stop(): void {
    this.stopped = true;
    for (const wake of [...this.sleepers]) wake();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.sleepers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }
}
