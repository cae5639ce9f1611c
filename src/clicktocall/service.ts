import { isSafeDialToken } from '../ami/actions.js';
import type { AmiMessage } from '../ami/types.js';
import type { CallbackConfig, ClickToCallConfig } from '../config/http.js';
import type { CoreInput } from '../core/events.js';
import type { HttpErrorCode, HttpLogger } from '../http/types.js';
import { BoundedMap } from '../util/bounded-map.js';
import { RecentKeys } from './dedup.js';
import { normalizeNumber } from './number.js';
import { channelIdFor, fillTemplate, OriginateError, type Originator } from './originate.js';
import { OriginateWatch, realTimers, WATCHDOG_MARGIN_MS, type WatchdogTimers } from './pending.js';

/**
 * Click-to-call and callback: ring the agent (or a queue) first, then the customer, and let the core follow the call.
 * Order matters: the core learns the Linkedid (our ChannelId), and for a click Bitrix24's CALL_ID, before the
 * Originate goes out, so the first channel event already belongs to a known call (a callback's CALL_ID comes with
 * its register). Every input check happens before anything is started.
 */

export interface ClickToCallEvent {
  callId: string;
  userId: number;
  phoneNumber: string;
}

export interface CallbackEvent {
  phoneNumber: string;
  crmEntityType?: string;
  crmEntityId?: number;
  lineNumber?: string;
}

export type StartResult =
  /** `callId` for a click (Bitrix24's); a callback's comes later, when its register is delivered. */
  | { ok: true; linkedid: string; callId?: string }
  | { ok: false; code: HttpErrorCode; message: string };

export interface ClickToCallDeps {
  originator: Originator;
  /** Bitrix24 user -> extension (the reverse of the user map). */
  userExtension: (userId: number) => string | undefined;
  /** runtime.handleInput */
  submit: (input: CoreInput) => void;
  /** ASSIGNED_BY_ID of a CRM entity, for callback target 'responsible'. */
  responsibleFor?: (entityType: string, entityId: number) => Promise<number | undefined>;
  /** Whether the PBX can take an originate now (ami.isConnected): nothing is shown or registered for nothing. */
  pbxAvailable: () => boolean;
  /** AMI Hangup of one channel (name or Uniqueid): used on the ChannelId of an Originate that timed out. */
  hangup?: (channel: string) => Promise<void>;
  timers?: WatchdogTimers;
  clock: () => number;
  config: ClickToCallConfig;
  defaultUserId: number;
  logger: HttpLogger;
}

/** Bitrix24's CALL_ID is `externalCall.<md5>.<unix time>`; anything outside this never reaches a header. */
const CALL_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** OriginateResponse Reason 8 (congestion) finishes as 503 "direction unavailable". */
const REASON_UNAVAILABLE = 8;
const MAX_CLAIMS = 10_000;

export class ClickToCall {
  private readonly recent: RecentKeys;
  /** Originates waiting for their outcome, each with a watchdog. */
  private readonly watch: OriginateWatch;
  /**
   * Linkedid -> the CALL_ID claim it holds until the core reports the call ended. Bounded like the claims
   * themselves: the oldest hold (a call the core never ended) is pushed out and its window starts.
   */
  private readonly claims: BoundedMap<string, string>;
  private counter = 0;

  constructor(private readonly deps: ClickToCallDeps) {
    this.recent = new RecentKeys(deps.config.dedupWindowSec * 1000, deps.clock);
    this.claims = new BoundedMap({ max: MAX_CLAIMS, clock: deps.clock, onEvict: (_linkedid, key) => this.recent.settle(key) });
    this.watch = new OriginateWatch({
      submit: deps.submit,
      ...(deps.hangup ? { hangup: deps.hangup } : {}),
      connected: deps.pbxAvailable,
      timers: deps.timers ?? realTimers,
      clock: deps.clock,
      logger: deps.logger,
    });
  }

  /** ONEXTERNALCALLSTART: Bitrix24 registered the call already; reuse its CALL_ID, never register again. */
  async startCall(ev: ClickToCallEvent): Promise<StartResult> {
    const cfg = this.deps.config;
    if (!CALL_ID.test(ev.callId)) return fail('BAD_REQUEST', 'data[CALL_ID] is malformed');
    const ext = this.deps.userExtension(ev.userId);
    if (ext === undefined || !isSafeDialToken(ext)) {
      return fail('UNKNOWN_USER', `Bitrix24 user ${ev.userId} has no extension (UF_PHONE_INNER or users.extensions)`);
    }
    const num = normalizeNumber(ev.phoneNumber, cfg.number);
    if (!num.ok) return fail('INVALID_NUMBER', `data[PHONE_NUMBER]: ${num.reason}`);
    // Held while the call is live (Bitrix24 repeats an unfinished call's CALL_ID for 30 min), then for the window.
    const key = `call:${ev.callId}`;
    if (this.recent.state(key) === 'held') return fail('CALL_IN_PROGRESS', 'this CALL_ID is a call still in progress');
    if (!this.recent.claim(key, true)) return fail('DUPLICATE', 'this CALL_ID was dialled moments ago');

    const at = this.deps.clock();
    const linkedid = channelIdFor('c2c', ev.callId, at, ++this.counter);
    this.claims.set(linkedid, key);
    const start = { kind: 'clickToCall', at, linkedid, callId: ev.callId, ext, userId: ev.userId, number: num.number } as const;
    if (!this.deps.pbxAvailable()) {
      // Bitrix24 registered the call already: finish it (503) without flashing the agent's card first.
      this.deps.submit({ ...start, card: false });
      this.deps.submit({ kind: 'originateFailed', at, linkedid, reason: REASON_UNAVAILABLE });
      this.deps.logger.warn({ linkedid, callId: ev.callId }, 'click-to-call while Asterisk is not connected; call finished as failed');
      return fail('PBX_UNAVAILABLE', 'Asterisk (AMI) is not connected');
    }
    this.deps.submit(start);
    const channel = fillTemplate(cfg.agentChannel, { ext });
    return this.dial(linkedid, ev.callId, channel, cfg.context, { ...num, ext });
  }

  /**
   * ONEXTERNALCALLBACKSTART: no CALL_ID yet. The core registers the callback (TYPE 4) like any call, so its register
   * goes through the outbox with everything every register gets: marked once, retried with backoff, repeated only
   * while Bitrix24 recognises the repeat, parked on a contract error, the CRM's params and the delivered listeners.
   * The target rings at once: it waits neither for the portal's answer nor on a portal that is slow or down (the
   * card pops when the register is delivered), and the call is followed and finished as every call is. Bitrix24's
   * CALL_ID is not known when the Originate leaves, so a callback's channels carry no B24_CALL_ID.
   */
  async startCallback(ev: CallbackEvent): Promise<StartResult> {
    const cb = this.deps.config.callback;
    if (!cb) return fail('NOT_CONFIGURED', 'callbacks are not configured (clickToCall.callback)');
    const num = normalizeNumber(ev.phoneNumber, this.deps.config.number);
    if (!num.ok) return fail('INVALID_NUMBER', `data[PHONE_NUMBER]: ${num.reason}`);
    const target = await this.callbackTarget(cb, ev);
    if (!target) return fail('UNKNOWN_USER', 'the responsible user has no extension and no callback queue is configured');
    const key = `callback:${num.number}`;
    if (!this.recent.claim(key)) return fail('DUPLICATE', 'a callback to this number was just started');
    // Checked before the core hears of it: a call registered while the PBX is down would only be finished as failed.
    if (!this.deps.pbxAvailable()) {
      this.recent.release(key);
      return fail('PBX_UNAVAILABLE', 'Asterisk is not connected');
    }
    const at = this.deps.clock();
    const linkedid = channelIdFor('cb', key, at, ++this.counter);
    this.deps.submit({
      kind: 'clickToCall',
      at,
      linkedid,
      ext: target.ext,
      userId: target.userId,
      number: num.number,
      lineNumber: ev.lineNumber ?? '',
      ...(ev.crmEntityType && ev.crmEntityId ? { crmEntity: { type: ev.crmEntityType, id: ev.crmEntityId } } : {}),
    });
    return this.dial(linkedid, undefined, target.channel, cb.context ?? this.deps.config.context, { ...num, ext: target.ext });
  }

  /** OriginateResponses and channel events of our pending Originates. */
  onAmiEvent(msg: AmiMessage): void {
    this.watch.onAmiEvent(msg);
  }

  /** The core reported the call ended (its callEnded effect): stop watching it; its CALL_ID's window starts. */
  onCallEnded(linkedid: string): void {
    this.watch.ended(linkedid);
    const key = this.claims.get(linkedid);
    if (key === undefined) return;
    this.claims.delete(linkedid);
    this.recent.settle(key);
  }

  private async callbackTarget(cb: CallbackConfig, ev: CallbackEvent): Promise<{ ext: string; channel: string; userId: number } | undefined> {
    if (cb.target === 'responsible' && this.deps.responsibleFor && ev.crmEntityType && ev.crmEntityId) {
      const userId = await this.deps.responsibleFor(ev.crmEntityType, ev.crmEntityId).catch((err: unknown) => {
        this.deps.logger.warn({ err }, 'could not read the CRM responsible; trying the callback queue');
        return undefined;
      });
      const ext = userId === undefined ? undefined : this.deps.userExtension(userId);
      if (userId !== undefined && ext !== undefined && isSafeDialToken(ext)) {
        return { ext, channel: fillTemplate(this.deps.config.agentChannel, { ext }), userId };
      }
    }
    if (cb.queueExten === undefined) return undefined;
    return { ext: cb.queueExten, channel: `Local/${cb.queueExten}@${cb.queueContext}`, userId: cb.userId ?? this.deps.defaultUserId };
  }

  private async dial(linkedid: string, callId: string | undefined, channel: string, context: string, n: { number: string; dial: string; ext: string }): Promise<StartResult> {
    const cfg = this.deps.config;
    this.watch.track(linkedid, cfg.timeoutMs + WATCHDOG_MARGIN_MS);
    const log = { linkedid, ...(callId !== undefined ? { callId } : {}), channel, context };
    try {
      const { actionId } = await this.deps.originator.originate({
        channel,
        context,
        exten: n.dial,
        callerId: fillTemplate(cfg.callerId, { number: n.number, dial: n.dial, ext: n.ext }),
        timeoutMs: cfg.timeoutMs,
        channelId: linkedid,
        otherChannelId: `${linkedid}-2`,
        // B24_CALL_ID is inherited by every channel of the call ("__"): recordings and logs can be named by it.
        // B24_EXT (the first leg's extension) lets the customer context set the caller ID the trunk sends.
        variables: { ...(callId !== undefined ? { __B24_CALL_ID: callId } : {}), B24_EXT: n.ext },
      });
      if (actionId !== undefined) this.watch.queued(linkedid, actionId);
      this.deps.logger.info(log, 'click-to-call originated');
      return { ok: true, linkedid, ...(callId !== undefined ? { callId } : {}) };
    } catch (err) {
      const e = err instanceof OriginateError ? err : new OriginateError('INTERNAL', 'originate failed unexpectedly');
      // A timeout may still ring people later for a call finished here: the watch hangs our ChannelId up.
      if (e.mayStillRun) this.watch.timedOut(linkedid);
      else this.watch.failed(linkedid);
      // Bitrix24 has the call registered (or will have, once its register is delivered): finish it now (503) rather
      // than leave a card open forever.
      this.deps.submit({ kind: 'originateFailed', at: this.deps.clock(), linkedid, reason: REASON_UNAVAILABLE });
      this.deps.logger.warn({ ...log, code: e.code, message: e.message }, 'click-to-call not originated; call finished as failed');
      return fail(e.code, e.message);
    }
  }
}

function fail(code: HttpErrorCode, message: string): StartResult {
  return { ok: false, code, message };
}
