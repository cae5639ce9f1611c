/** Uptime has one-second steps and the login takes a moment: boot times closer than this are one boot. */
const BOOT_TOLERANCE_MS = 5_000;

/**
 * Tells from the FullyBooted of each login whether Asterisk restarted since the last one: a Shutdown event came in
 * between, or its boot time (our clock minus its Uptime) is later than the one we knew.
 */
export class RestartDetector {
  /** When Asterisk booted, from the last FullyBooted. */
  private lastBootAt: number | undefined;
  private shutdownSeen = false;

  /** `clock`: wall clock in ms, for Asterisk's boot time. */
  constructor(private readonly clock: () => number) {}

  shutdown(): void {
    this.shutdownSeen = true;
  }

  /** A FullyBooted came with this Uptime (seconds; NaN when it had none): true when it is a new boot. */
  booted(uptimeSeconds: number): boolean {
    // Compare boot times, not uptimes: after a long connection a crashed Asterisk may already report more
    // uptime than it had at our last login, yet it booted later than the one we knew.
    const bootAt = Number.isFinite(uptimeSeconds) ? this.clock() - uptimeSeconds * 1000 : undefined;
    const restarted = this.shutdownSeen || (bootAt !== undefined && this.lastBootAt !== undefined && bootAt - this.lastBootAt > BOOT_TOLERANCE_MS);
    this.shutdownSeen = false;
    if (bootAt !== undefined) this.lastBootAt = bootAt;
    return restarted;
  }
}
