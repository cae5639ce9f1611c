import type { AmiMessage } from '../ami/types.js';
import { cardParams, finishParams, registerParams, type CommandOptions } from '../bitrix/commands.js';
import type { Outbox } from '../bitrix/outbox.js';
import type { Effect, RegisterCall } from '../core/effects.js';
import type { CoreInput } from '../core/events.js';
import { normalize } from '../core/normalize.js';
import type { CallTracker } from '../core/tracker.js';
import { callLogger, type Logger } from '../obs/logger.js';
import { BoundedMap } from '../util/bounded-map.js';

/**
 * The loop at the heart of the daemon: AMI messages in, normalized, stepped through the core, effects performed.
 * Owns the clock for events without a Timestamp. Never throws out of an event: a bad event is logged and skipped.
 */

export interface RuntimeStats {
  events: number;
  cardsShown: number;
  cardsHidden: number;
  callsFinished: number;
  unmappedExtensions: number;
  poisonedCalls: number;
  eventErrors: number;
  /** Calls and channels the core let go because it tracked as many as it may (a flood from a broken AMI). */
  evictedCalls: number;
  evictedChannels: number;
}

export interface RuntimeOptions {
  tracker: CallTracker;
  outbox: Outbox;
  logger: Logger;
  clock: () => number;
  commands: CommandOptions;
  /** Without a recordings pipeline, recordings are logged and not queued (nothing would ever send them). */
  recordingsEnabled: boolean;
  /** Channel variables that carry a recording's path (MIXMONITOR_FILENAME and recordings.pathVariable). */
  recordingVariables?: readonly string[];
  onEffect?: (effect: Effect) => void;
  /** After an input that produced effects, once they are all performed (the daemon persists the core's state then). */
  onEffects?: (effects: readonly Effect[]) => void;
  /** False: the effect is not performed (onEffect still sees it): the CRM blacklist keeps blocked callers out of Bitrix24. */
  admit?: (effect: Effect) => boolean;
  /** The CRM's part of registerParams(): CRM_CREATE, CRM_SOURCE, CRM_ENTITY_TYPE/ID (src/crm/leads.ts). */
  registerExtras?: (effect: RegisterCall) => Record<string, unknown>;
}

const MAX_CALL_LOGGERS = 10_000;
/** Evictions less than this apart are one streak, logged once. */
const EVICTION_STREAK_GAP_MS = 60_000;

export class Runtime {
  readonly stats: RuntimeStats = { events: 0, cardsShown: 0, cardsHidden: 0, callsFinished: 0, unmappedExtensions: 0, poisonedCalls: 0, eventErrors: 0, evictedCalls: 0, evictedChannels: 0 };

  private readonly variables: ReadonlySet<string>;
  /** A child logger per call in flight: every line about a call carries its linkedid. Dropped when it ends. */
  private readonly callLogs: BoundedMap<string, Logger>;
  private readonly listeners: Array<(effect: Effect) => void> = [];
  private lastEvictionAt: number | undefined;

  constructor(private readonly opts: RuntimeOptions) {
    this.variables = new Set(opts.recordingVariables ?? []);
    // A bound, whatever happens to callEnded: losing a per-call child costs nothing but a new child.
    this.callLogs = new BoundedMap({ max: MAX_CALL_LOGGERS, clock: opts.clock });
  }

  /** Parts built after the runtime (click-to-call) follow its effects here; they see every effect, as onEffect. */
  subscribe(listener: (effect: Effect) => void): void {
    this.listeners.push(listener);
  }

  handleAmiEvent(msg: AmiMessage): void {
    this.stats.events++;
    let input: CoreInput | undefined;
    try {
      input = normalize(msg, this.opts.clock(), this.variables);
    } catch (err) {
      this.stats.eventErrors++;
      this.opts.logger.warn({ err, event: msg['Event'] }, 'could not read an AMI event; skipped');
      return;
    }
    if (input) this.handleInput(input);
  }

  handleInput(input: CoreInput): void {
    let effects: Effect[];
    try {
      effects = this.opts.tracker.handle(input);
    } catch (err) {
      // A bug in the core must cost one event, never the daemon.
      this.stats.eventErrors++;
      this.opts.logger.error({ err, kind: input.kind }, 'core failed on an event; skipped');
      return;
    }
    for (const effect of effects) this.perform(effect);
    if (effects.length > 0) this.opts.onEffects?.(effects);
  }

  private logFor(linkedid: string): Logger {
    let log = this.callLogs.get(linkedid);
    if (log === undefined) {
      log = callLogger(this.opts.logger, { linkedid });
      this.callLogs.set(linkedid, log);
    }
    return log;
  }

  private perform(effect: Effect): void {
    const { outbox, logger, commands } = this.opts;
    this.opts.onEffect?.(effect);
    for (const listener of this.listeners) listener(effect);
    if (this.opts.admit && !this.opts.admit(effect)) return;
    switch (effect.type) {
      case 'register':
        outbox.enqueue(effect.linkedid, 'register', 'telephony.externalcall.register', registerParams(effect, commands, this.opts.registerExtras?.(effect)), false, userExtOf(effect));
        this.logFor(effect.linkedid).info({ phone: effect.phoneNumber, type: effect.callType, userId: effect.userId }, 'call registered');
        return;
      case 'show':
        this.stats.cardsShown += effect.userIds.length;
        this.logFor(effect.linkedid).debug({ userIds: effect.userIds }, 'card shown');
        outbox.enqueue(effect.linkedid, 'show', 'telephony.externalcall.show', cardParams(effect));
        return;
      case 'hide':
        this.stats.cardsHidden += effect.userIds.length;
        this.logFor(effect.linkedid).debug({ userIds: effect.userIds }, 'card hidden');
        outbox.enqueue(effect.linkedid, 'hide', 'telephony.externalcall.hide', cardParams(effect));
        return;
      case 'finish':
        this.stats.callsFinished++;
        outbox.enqueue(effect.linkedid, 'finish', 'telephony.externalcall.finish', finishParams(effect, commands), true, userExtOf(effect));
        return;
      case 'attachRecording':
        if (!this.opts.recordingsEnabled) {
          this.logFor(effect.linkedid).info({ path: effect.path }, 'recording not attached: recordings are not enabled');
          return;
        }
        this.logFor(effect.linkedid).debug({ path: effect.path }, 'recording queued');
        outbox.enqueue(effect.linkedid, 'attach', 'telephony.externalCall.attachRecord', { path: effect.path, endedAt: effect.endedAt, call: effect.call });
        return;
      case 'bindCallId':
        outbox.bindCallId(effect.linkedid, effect.callId);
        return;
      case 'unmappedExtension':
        this.stats.unmappedExtensions++;
        logger.warn({ ext: effect.ext }, 'extension maps to no Bitrix24 user (set UF_PHONE_INNER or users.extensions); no card for it');
        return;
      case 'callPoisoned':
        this.stats.poisonedCalls++;
        this.logFor(effect.linkedid).error({ reason: effect.reason }, 'call dropped: events broke its state machine');
        this.callLogs.delete(effect.linkedid);
        return;
      case 'evicted': {
        this.stats.evictedCalls += effect.calls;
        this.stats.evictedChannels += effect.channels;
        const now = this.opts.clock();
        if (this.lastEvictionAt === undefined || now - this.lastEvictionAt > EVICTION_STREAK_GAP_MS) {
          logger.warn(
            { calls: effect.calls, channels: effect.channels, limits: this.opts.tracker.limits },
            'tracking limit reached: evicting the oldest idle calls and channels (AMI events for channels that never hang up?); logged once per streak, counted in evictedCalls/evictedChannels',
          );
        }
        this.lastEvictionAt = now;
        return;
      }
      case 'callEnded':
        this.logFor(effect.linkedid).info(
          { direction: effect.direction, status: effect.status, userId: effect.userId, duration: effect.durationSec, queue: effect.queue },
          'call finished',
        );
        this.callLogs.delete(effect.linkedid);
        return;
    }
  }
}

/** A register or finish whose user fell back to the default carries the extension, resolved when it is sent. */
function userExtOf(effect: { userExt?: string }): { userExt: string } | undefined {
  return effect.userExt === undefined ? undefined : { userExt: effect.userExt };
}
