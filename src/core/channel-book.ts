import { RecentIds } from './recent-ids.js';
import type { ChannelJson } from './snapshot.js';

/**
 * Every live channel the core knows (by Uniqueid), which bridge it is in, and the channels that hung up.
 * Asterisk may still publish a channel's snapshot after its Hangup (NewConnectedLine, seen in the
 * ringback_fixed_penalty trace): hung-up ids are remembered so they cannot resurrect a call.
 */
export interface ChannelState {
  linkedid: string;
  name: string;
  context: string;
  bridge: string | undefined;
}

/** How many tombstones a snapshot keeps (the full sets would make the once-a-second snapshot 1.7 MB). */
export const SNAPSHOT_TOMBSTONES = 2000;

export class ChannelBook {
  private readonly channels = new Map<string, ChannelState>();
  private readonly bridges = new Map<string, Set<string>>();
  private readonly hungUp: RecentIds;

  constructor(hungUpLimit: number) {
    this.hungUp = new RecentIds(hungUpLimit);
  }

  get size(): number {
    return this.channels.size;
  }

  get(uniqueid: string): ChannelState | undefined {
    return this.channels.get(uniqueid);
  }

  set(uniqueid: string, ch: ChannelState): void {
    this.channels.set(uniqueid, ch);
  }

  ids(): string[] {
    return [...this.channels.keys()];
  }

  entries(): Array<[string, ChannelState]> {
    return [...this.channels.entries()];
  }

  isHungUp(uniqueid: string): boolean {
    return this.hungUp.has(uniqueid);
  }

  /** The channel is gone for good. */
  hangUp(uniqueid: string): void {
    this.leaveBridge(uniqueid);
    this.channels.delete(uniqueid);
    this.hungUp.add(uniqueid);
  }

  /** Forgets a channel without marking it hung up (its call was dropped). */
  delete(uniqueid: string): void {
    this.leaveBridge(uniqueid);
    this.channels.delete(uniqueid);
  }

  /** Moves the channel into a bridge; returns the bridge's members, the channel included. */
  enterBridge(uniqueid: string, bridgeId: string): Set<string> | undefined {
    const ch = this.channels.get(uniqueid);
    if (!ch) return undefined;
    this.leaveBridge(uniqueid);
    ch.bridge = bridgeId;
    let members = this.bridges.get(bridgeId);
    if (!members) this.bridges.set(bridgeId, (members = new Set()));
    members.add(uniqueid);
    return members;
  }

  leaveBridge(uniqueid: string): void {
    const ch = this.channels.get(uniqueid);
    if (!ch?.bridge) return;
    const members = this.bridges.get(ch.bridge);
    members?.delete(uniqueid);
    if (members?.size === 0) this.bridges.delete(ch.bridge);
    ch.bridge = undefined;
  }

  /** Only the latest hung-up ids travel: late snapshots come within seconds, not across a restart's gap. */
  exportState(): { channels: ChannelJson[]; hungUp: string[] } {
    return { channels: [...this.channels.entries()].map(([uniqueid, c]) => ({ uniqueid, ...c })), hungUp: this.hungUp.latest(SNAPSHOT_TOMBSTONES) };
  }

  importState(channels: ChannelJson[], hungUp: string[]): void {
    for (const { uniqueid, ...c } of channels) {
      this.channels.set(uniqueid, c);
      if (c.bridge !== undefined) {
        let members = this.bridges.get(c.bridge);
        if (!members) this.bridges.set(c.bridge, (members = new Set()));
        members.add(uniqueid);
      }
    }
    for (const id of hungUp) this.hungUp.add(id);
  }
}
