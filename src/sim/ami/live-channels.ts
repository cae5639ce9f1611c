import type { AmiMessage } from '../../ami/types.js';

/** Like Asterisk, CoreShowChannels lists the channels the events sent so far created and did not hang up. */
export class LiveChannels {
  private readonly live = new Map<string, AmiMessage>();

  /** Follows one event sent to the sessions. */
  track(msg: AmiMessage): void {
    const id = msg['Uniqueid'];
    if (typeof id !== 'string') return;
    if (msg['Event'] === 'Hangup') this.live.delete(id);
    else if (msg['Event'] === 'Newchannel' || this.live.has(id)) this.live.set(id, msg);
  }

  /** The live channels as CoreShowChannel list items (each channel's last event, renamed). */
  items(): AmiMessage[] {
    return [...this.live.values()].map((m) => {
      const { Event: _e, Privilege: _p, Timestamp: _t, ...rest } = m;
      return { Event: 'CoreShowChannel', ...rest };
    });
  }
}
