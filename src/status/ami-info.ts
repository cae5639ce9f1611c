import type { AmiClient } from '../ami/client.js';
import { field, type AmiMessage } from '../ami/types.js';
import type { StatusSnapshot } from './types.js';

/**
 * What the live view says about Asterisk: connected since when, its version (CoreSettings, asked once per login:
 * it needs the AMI user's `system` read permission, and without it the version is simply unknown) and its boot time
 * (FullyBooted's Uptime, which every login brings).
 */
export class AmiInfo {
  private version: string | null = null;
  private bootedAt: number | null = null;
  private since: number | null = null;
  private readonly offs: Array<() => void> = [];

  constructor(
    private readonly ami: AmiClient,
    private readonly clock: () => number,
  ) {
    const onConnected = (): void => {
      this.since = clock();
      void this.readVersion();
    };
    const onDown = (): void => void (this.since = clock());
    const onBooted = (msg: AmiMessage): void => {
      const uptime = Number(field(msg, 'Uptime'));
      if (Number.isFinite(uptime) && uptime >= 0) this.bootedAt = clock() - uptime * 1000;
    };
    ami.on('connected', onConnected).on('disconnected', onDown).on('fullyBooted', onBooted);
    this.offs.push(() => ami.off('connected', onConnected).off('disconnected', onDown).off('fullyBooted', onBooted));
    if (ami.isConnected) onConnected();
  }

  view(): StatusSnapshot['ami'] {
    return { connected: this.ami.isConnected, asteriskVersion: this.version, bootedAt: this.bootedAt, since: this.since };
  }

  stop(): void {
    for (const off of this.offs.splice(0)) off();
  }

  private async readVersion(): Promise<void> {
    try {
      const r = await this.ami.action('CoreSettings', {}, { timeoutMs: 5000 });
      const v = field(r.response, 'AsteriskVersion');
      if (v) this.version = v.slice(0, 80);
    } catch {
      // Not allowed or not answered: the page says "unknown"; the bridge needs no version to work.
    }
  }
}
