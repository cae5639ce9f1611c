import { field, type AmiMessage } from '../ami/types.js';
import type { CoreInput } from '../core/events.js';
import { eventTime } from '../core/normalize.js';
import type { HttpLogger } from '../http/types.js';

/**
 * Originates between "queued" and their outcome, each with a watchdog. The outcome is an OriginateResponse
 * (Failure finishes the call), a channel of the call (the core follows it from there) or the call's end. The
 * OriginateResponse can be lost (AMI drops after "Originate successfully queued"); if the call also ended before the
 * reconnect, no channel of it is ever seen and the core, which follows channels, would keep the card open forever:
 * so after the ring time plus a margin the watchdog finishes it (reason 0 -> 480). An Originate that timed out was
 * finished at once; it is watched a while longer so that a late start (a slow Asterisk catching up) is hung up.
 * Entries leave on their outcome, their call's end or expiry: memory follows the calls in flight.
 */

export interface WatchdogTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: WatchdogTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** Past the ring time, how long an OriginateResponse (or a first channel event) may take before the watchdog acts. */
export const WATCHDOG_MARGIN_MS = 30_000;
/** How long a timed-out Originate is watched for a late start. */
export const ABANDONED_WATCH_MS = 10 * 60_000;
/** OriginateResponse Reason 0 (failure/other): the core finishes as 480. */
const REASON_UNKNOWN = 0;
const CHANNEL_HEADERS = ['Uniqueid', 'Linkedid', 'DestUniqueid', 'DestLinkedid'];

interface Entry {
  linkedid: string;
  actionId?: string;
  /** A channel event of this call arrived. */
  seen: boolean;
  /** Timed out and finished: a channel that still shows up is hung up (once). */
  abandoned: boolean;
  hungUp: boolean;
  timer: unknown;
}

export interface OriginateWatchDeps {
  submit: (input: CoreInput) => void;
  /** AMI Hangup of one channel; our ChannelId is the first leg's Uniqueid. */
  hangup?: (channel: string) => Promise<void>;
  /** AMI connected: while it is not, a missing event proves nothing and the watchdog waits another margin. */
  connected?: () => boolean;
  timers: WatchdogTimers;
  clock: () => number;
  logger: HttpLogger;
}

export class OriginateWatch {
  private readonly entries = new Map<string, Entry>();
  private readonly byActionId = new Map<string, string>();
  /** Failures that arrived before the Originate's own promise settled (same TCP chunk). */
  private readonly earlyFailures = new Map<string, AmiMessage>();

  constructor(private readonly deps: OriginateWatchDeps) {}

  /** Before the Originate goes out: the watchdog fires after `ms` unless an outcome came first. */
  track(linkedid: string, ms: number): void {
    this.start(linkedid, ms, false);
  }

  /** Asterisk queued it: an OriginateResponse carries this ActionID (and may already have come). */
  queued(linkedid: string, actionId: string): void {
    const e = this.entries.get(linkedid);
    if (!e) return;
    e.actionId = actionId;
    this.byActionId.set(actionId, linkedid);
    const early = this.earlyFailures.get(actionId);
    this.earlyFailures.delete(actionId);
    if (early) this.outcome(e, early);
  }

  /** Refused or unreachable: nothing can start, forget it (the caller finishes the call). */
  failed(linkedid: string): void {
    this.drop(linkedid);
  }

  /** No answer in time: the caller finishes the call; hang our ChannelId up now and if it starts late. */
  timedOut(linkedid: string): void {
    this.start(linkedid, ABANDONED_WATCH_MS, true);
    this.hangUp(linkedid);
  }

  /** The core reported the call ended. A timed-out Originate stays watched: a late start must still be hung up. */
  ended(linkedid: string): void {
    if (this.entries.get(linkedid)?.abandoned !== true) this.drop(linkedid);
  }

  onAmiEvent(msg: AmiMessage): void {
    if (field(msg, 'Event') === 'OriginateResponse') return this.onOriginateResponse(msg);
    if (this.entries.size === 0) return;
    for (const h of CHANNEL_HEADERS) {
      const id = field(msg, h);
      const e = id === undefined ? undefined : this.entries.get(id);
      if (e) return this.channelSeen(e);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  private onOriginateResponse(msg: AmiMessage): void {
    const actionId = field(msg, 'ActionID');
    const uniqueid = field(msg, 'Uniqueid');
    const linkedid = (actionId !== undefined ? this.byActionId.get(actionId) : undefined) ?? uniqueid;
    const e = linkedid === undefined ? undefined : this.entries.get(linkedid);
    if (e === undefined) {
      if (actionId !== undefined && field(msg, 'Response') === 'Failure') {
        this.earlyFailures.set(actionId, msg);
        if (this.earlyFailures.size > 100) this.earlyFailures.delete(this.earlyFailures.keys().next().value as string);
      }
      return;
    }
    if (e.abandoned) return field(msg, 'Response') === 'Success' ? this.channelSeen(e) : undefined;
    this.outcome(e, msg);
  }

  /** OriginateResponse Failure (busy, no answer, congestion before any channel existed) finishes the call. */
  private outcome(e: Entry, msg: AmiMessage): void {
    this.drop(e.linkedid);
    if (field(msg, 'Response') !== 'Failure') return;
    const reason = Number(field(msg, 'Reason') ?? 0) || 0;
    this.deps.logger.info({ linkedid: e.linkedid, reason }, 'click-to-call originate failed');
    this.deps.submit({ kind: 'originateFailed', at: eventTime(msg, this.deps.clock()), linkedid: e.linkedid, reason });
  }

  private channelSeen(e: Entry): void {
    if (!e.abandoned) {
      e.seen = true;
      return;
    }
    if (e.hungUp) return;
    e.hungUp = true;
    this.deps.logger.warn({ linkedid: e.linkedid }, 'an Originate reported as timed out started after all; hanging it up');
    this.hangUp(e.linkedid);
  }

  private expired(e: Entry): void {
    if (e.seen || e.abandoned) return;
    this.deps.logger.warn({ linkedid: e.linkedid }, 'no OriginateResponse and no channel for a click-to-call in time; finishing it as failed');
    this.deps.submit({ kind: 'originateFailed', at: this.deps.clock(), linkedid: e.linkedid, reason: REASON_UNKNOWN });
  }

  private hangUp(linkedid: string): void {
    if (!this.deps.hangup) return;
    this.deps.hangup(linkedid).then(
      () => this.deps.logger.info({ linkedid }, 'hung up the first leg of a timed-out Originate'),
      (err: unknown) => this.deps.logger.warn({ err, linkedid }, 'Hangup of a timed-out Originate failed (the channel may not exist)'),
    );
  }

  private start(linkedid: string, ms: number, abandoned: boolean): void {
    this.drop(linkedid);
    const timer = this.deps.timers.setTimeout(() => this.fire(linkedid), ms);
    this.entries.set(linkedid, { linkedid, seen: false, abandoned, hungUp: false, timer });
  }

  private fire(linkedid: string): void {
    const e = this.entries.get(linkedid);
    if (!e) return;
    if (!e.abandoned && !e.seen && this.deps.connected?.() === false) {
      // Blind: the call may be live, its events lost with the connection. Look again a margin later.
      e.timer = this.deps.timers.setTimeout(() => this.fire(linkedid), WATCHDOG_MARGIN_MS);
      return;
    }
    this.drop(linkedid);
    this.expired(e);
  }

  private drop(linkedid: string): void {
    const e = this.entries.get(linkedid);
    if (!e) return;
    this.deps.timers.clearTimeout(e.timer);
    this.entries.delete(linkedid);
    if (e.actionId !== undefined) this.byActionId.delete(e.actionId);
  }
}
