/** Runs at most `n` tasks at once, the others wait in arrival order: transcodes must not starve the PBX. */
export type Limit = <T>(task: () => Promise<T>) => Promise<T>;

export function createLimit(n: number): Limit {
  if (!Number.isInteger(n) || n < 1) throw new RangeError('limit must be a positive integer');
  let running = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    if (running >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next waiter, so `running` never drops and rises again in between.
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}
