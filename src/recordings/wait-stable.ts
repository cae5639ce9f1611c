/**
 * Waits until a recording is complete. After a hangup MixMonitor closes its file asynchronously
 * (docs/reference/asterisk-ami.md#mixmonitor), so "complete" means: it exists and its size stayed the same
 * for `stableMs`.
 */

export interface WaitStableOptions {
  /** Current size in bytes, or undefined while the file does not exist. */
  size: () => Promise<number | undefined>;
  stableMs: number;
  /** Give up on a file that has not appeared after this long. */
  appearTimeoutMs: number;
  /**
   * Give up on a file that is still growing after this long: something is still recording into it
   * (the channel lives on after a transfer). Default: appearTimeoutMs + stableMs.
   */
  settleTimeoutMs?: number;
  /** Poll period; default a third of stableMs, between 50 ms and 1 s. */
  pollMs?: number;
  clock?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export type WaitResult =
  | { status: 'stable'; size: number }
  | { status: 'missing'; waitedMs: number }
  | { status: 'growing'; size: number; waitedMs: number };

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitStable(opts: WaitStableOptions): Promise<WaitResult> {
  const clock = opts.clock ?? Date.now;
  const sleep = opts.sleep ?? realSleep;
  const pollMs = opts.pollMs ?? Math.min(1000, Math.max(50, Math.round(opts.stableMs / 3)));
  const settleTimeoutMs = opts.settleTimeoutMs ?? opts.appearTimeoutMs + opts.stableMs;
  const start = clock();
  let last: number | undefined;
  let since = start;

  for (;;) {
    const size = await opts.size();
    const now = clock();
    if (size === undefined) {
      if (now - start >= opts.appearTimeoutMs) return { status: 'missing', waitedMs: now - start };
      // A file that vanished (moved away by the dialplan) starts its wait for stability again.
      last = undefined;
    } else if (size !== last) {
      last = size;
      since = now;
    }
    if (last !== undefined && now - since >= opts.stableMs) return { status: 'stable', size: last };
    if (last !== undefined && now - start >= settleTimeoutMs) return { status: 'growing', size: last, waitedMs: now - start };
    await sleep(pollMs);
  }
}
