/**
 * The one wait of the test suite: polls a probe until it returns something truthy, and fails with a message naming
 * what it waited for when the time is up. It never returns quietly on timeout.
 */
export function waitFor<T>(probe: () => T | undefined | null | false | 0 | '', what: string, timeoutMs = 10_000, everyMs = 20): Promise<T> {
  return waitForAsync(async () => probe(), what, timeoutMs, everyMs);
}

/** As waitFor, for a probe that is itself asynchronous (an HTTP GET, a CLI run). */
export async function waitForAsync<T>(probe: () => Promise<T | undefined | null | false | 0 | ''>, what: string, timeoutMs = 10_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      // A probe may throw while the thing it reads is not there yet; the last error is reported on timeout.
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(everyMs);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
