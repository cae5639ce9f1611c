/**
 * Start and stop order in one place. Parts register a stop step as they start; stop() runs the steps in reverse
 * order of start (the last part started, the HTTP endpoint, stops taking work first; the state store closes last),
 * each bounded in time so a part that hangs cannot keep SIGTERM waiting past the drain limit.
 */

export interface LifecycleLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

interface Step {
  name: string;
  stop: () => void | Promise<void>;
  /** Upper bound for this step, read when the step runs (the outbox's drain limit is given to stop()). */
  limitMs: () => number;
}

export class Lifecycle {
  private readonly steps: Step[] = [];
  private stopping: Promise<void> | undefined;

  constructor(private readonly logger: LifecycleLogger) {}

  /** Registers how to stop a part that has just started. */
  onStop(name: string, stop: () => void | Promise<void>, limitMs: number | (() => number) = 2_000): void {
    this.steps.push({ name, stop, limitMs: typeof limitMs === 'number' ? () => limitMs : limitMs });
  }

  /** A repeating timer that the stop clears (unref'd: it never keeps the process alive). */
  every(name: string, ms: number, tick: () => void): void {
    const timer = setInterval(tick, ms);
    timer.unref();
    this.onStop(name, () => clearInterval(timer));
  }

  /** Runs every stop step once, in reverse order of start; a step that throws or overruns is logged and passed. */
  stop(): Promise<void> {
    this.stopping ??= this.run();
    return this.stopping;
  }

  private async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const limitMs = step.limitMs();
      const overrun = new Promise<'overrun'>((resolve) => {
        timer = setTimeout(() => resolve('overrun'), limitMs);
      });
      try {
        const outcome = await Promise.race([Promise.resolve().then(step.stop), overrun]);
        if (outcome === 'overrun') this.logger.warn({ step: step.name, limitMs }, 'stop step overran its limit; going on');
      } catch (err) {
        this.logger.error({ err, step: step.name }, 'stop step failed; going on');
      } finally {
        clearTimeout(timer);
      }
    }
  }
}
