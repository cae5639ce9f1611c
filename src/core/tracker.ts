import { newCall, transition, TransitionError, type Call } from './call.js';
import { closeCardIfIdle, endAllRings, endRing, openCard, startRing, type CardContext } from './cards.js';
import { cleanNumber, looksLikeDid, type ChannelClassifier } from './classify.js';
import type { Effect } from './effects.js';
import type { ChannelSnapshot, CoreInput } from './events.js';
import { statusForOriginateReason } from './finish-policy.js';
import { callFromJson, callToJson, type TrackerSnapshot } from './snapshot.js';
import { ChannelBook, remember, SNAPSHOT_TOMBSTONES } from './channel-book.js';
import { ensureRegistered, finishEffects, type CallEndContext } from './call-end.js';
import { callTalkedOnBy, Consultations } from './consult.js';

/**
 * The call-tracking core: normalized events in, effects out. No I/O, no clock (time comes with each event),
 * so a recorded trace replays identically. State is mutated in place for speed; nothing else touches it.
 */

export interface UserDirectory {
  userIdFor(ext: string): number | undefined;
}

export interface TrackerOptions {
  classifier: ChannelClassifier;
  users: UserDirectory;
  defaultUserId: number;
  crmCreate: { inbound: boolean; outbound: boolean };
  defaultLineNumber: string;
  showCards: boolean;
  /**
   * How many ended Linkedids are remembered so late events cannot start a call again (8 hung-up channels each).
   * Late events come within seconds; the default is what a snapshot keeps across a restart anyway.
   */
  tombstones?: number;
  /** Channel variables that carry a recording's absolute path (default MIXMONITOR_FILENAME). */
  recordingVariables?: readonly string[];
}


export class CallTracker {
  private readonly channels: ChannelBook;
  private readonly calls = new Map<string, Call>();
  private readonly ended = new Set<string>();
  private readonly unmappedReported = new Set<string>();
  private readonly consultations = new Consultations();
  private readonly cards: CardContext;
  private readonly end: CallEndContext;
  private lastEventAt = 0;
  private readonly recordingVariables: ReadonlySet<string>;

  constructor(private readonly opts: TrackerOptions) {
    this.recordingVariables = new Set(opts.recordingVariables ?? ['MIXMONITOR_FILENAME']);
    this.channels = new ChannelBook((opts.tombstones ?? SNAPSHOT_TOMBSTONES) * 8);
    this.end = { defaultUserId: opts.defaultUserId, crmCreate: opts.crmCreate, userIdFor: (ext, out) => this.userIdFor(ext, out) };
    this.cards = {
      showCards: opts.showCards,
      userIdFor: (ext, out) => this.userIdFor(ext, out),
      ensureRegistered: (call, preferred, out) => ensureRegistered(this.end, call, preferred, out),
    };
  }

  get activeCalls(): number {
    return this.calls.size;
  }

  get trackedChannels(): number {
    return this.channels.size;
  }

  handle(input: CoreInput): Effect[] {
    const out: Effect[] = [];
    if (input.at > this.lastEventAt) this.lastEventAt = input.at;
    try {
      this.dispatch(input, out);
    } catch (err) {
      if (!(err instanceof TransitionError)) throw err;
      // Only the offending call is dropped; the daemon and every other call go on.
      this.forget(err.linkedid);
      out.push({ type: 'callPoisoned', linkedid: err.linkedid, reason: err.message });
    }
    return out;
  }

  private dispatch(input: CoreInput, out: Effect[]): void {
    switch (input.kind) {
      case 'channel':
        this.observe(input.channel, input.at, out);
        return;
      case 'varSet': {
        const call = this.observe(input.channel, input.at, out);
        // One record per Bitrix24 call: the customer channel's recording wins, else the first one started.
        if (call && this.recordingVariables.has(input.variable) && input.value) {
          // The admin's variable (recordings.pathVariable) names the file to attach, whatever MixMonitor says;
          // between MixMonitor paths, the customer channel's recording wins.
          const preferred = input.variable !== 'MIXMONITOR_FILENAME';
          if (preferred || (!call.recordingFromPathVariable && (!call.recordingPath || input.channel.uniqueid === call.customerChannel))) {
            call.recordingPath = input.value;
            call.recordingFromPathVariable ||= preferred;
          }
        }
        return;
      }
      case 'hangup':
        return this.onHangup(input.channel, input.cause, input.at, out);
      case 'dialBegin':
        return this.onDialBegin(input.caller, input.dest, input.at, out);
      case 'dialEnd':
        return this.onDialEnd(input.caller, input.dest, input.status, input.at, out);
      case 'agentCalled': {
        const call = this.classifiedCall(input.caller, input.at, out);
        this.observe(input.dest, input.at, out);
        const ext = this.opts.classifier.extensionOf(input.iface) ?? this.opts.classifier.extensionOf(input.dest.name);
        if (call && ext) startRing(this.cards, call, input.dest.uniqueid, ext, out);
        return;
      }
      case 'agentRingNoAnswer': {
        const call = this.classifiedCall(input.caller, input.at, out);
        if (call) endRing(this.cards, call, input.dest.uniqueid, false, out);
        return;
      }
      case 'agentConnect': {
        const call = this.classifiedCall(input.caller, input.at, out);
        const ext = this.opts.classifier.extensionOf(input.iface) ?? this.opts.classifier.extensionOf(input.dest.name);
        if (!call || !ext) return;
        endAllRings(this.cards, call, out, input.dest.uniqueid);
        endRing(this.cards, call, input.dest.uniqueid, true, out);
        this.markTalking(call, ext, input.dest.uniqueid, input.at, out);
        return;
      }
      case 'agentComplete':
        this.observe(input.caller, input.at, out);
        return;
      case 'queueJoin': {
        const call = this.observe(input.caller, input.at, out);
        if (call) {
          call.queue = input.queue;
          call.queueJoinedAt ??= input.at;
        }
        return;
      }
      case 'queueLeave':
      case 'queueAbandon': {
        const call = this.classifiedCall(input.caller, input.at, out);
        if (call) {
          call.queueLeftAt ??= input.at;
          endAllRings(this.cards, call, out);
        }
        return;
      }
      case 'bridgeEnter':
        return this.onBridgeEnter(input.bridgeId, input.channel, input.at, out);
      case 'bridgeLeave':
        this.observe(input.channel, input.at, out);
        this.channels.leaveBridge(input.channel.uniqueid);
        return;
      case 'transfer':
        return this.onTransfer(input, out);
      case 'clickToCall':
        return this.onClickToCall(input, out);
      case 'originateFailed': {
        const call = this.calls.get(input.linkedid);
        if (!call) return;
        call.originateFailure = statusForOriginateReason(input.reason);
        if (call.channels.size === 0) this.endCall(call, input.at, out);
        return;
      }
      case 'resync':
        return this.onResync(input.live, input.known, input.at, out);
      case 'timer':
        return;
    }
  }

  /**
   * After an AMI drop or a restart: channels Asterisk no longer has are hung up as of `at` (their calls end
   * with the best data known); live channels we did not know are picked up like new ones.
   */
  private onResync(live: ChannelSnapshot[], known: string[], at: number, out: Effect[]): void {
    const alive = new Set(live.map((c) => c.uniqueid));
    const before = new Set(known);
    for (const [uniqueid, ch] of this.channels.entries()) {
      if (alive.has(uniqueid) || !before.has(uniqueid) || this.channels.get(uniqueid) === undefined) continue;
      const snap = { uniqueid, linkedid: ch.linkedid, name: ch.name, context: ch.context, exten: '', callerIdNum: '', callerIdName: '' };
      this.onHangup(snap, 0, at, out);
    }
    for (const call of [...this.calls.values()]) {
      // A call that lost every channel without a Hangup we saw.
      if (call.channels.size === 0 && call.phase !== 'ended' && !call.clickToCall) this.endCall(call, at, out);
    }
    for (const snap of live) this.observe(snap, at, out);
  }

  exportState(): TrackerSnapshot {
    return {
      version: 1,
      lastEventAt: this.lastEventAt,
      calls: [...this.calls.values()].map(callToJson),
      ...this.channels.exportState(),
      ended: [...this.ended].slice(-SNAPSHOT_TOMBSTONES),
    };
  }

  importState(s: TrackerSnapshot): void {
    this.lastEventAt = s.lastEventAt;
    for (const c of s.calls) this.calls.set(c.linkedid, callFromJson(c));
    this.channels.importState(s.channels, s.hungUp);
    for (const id of s.ended) this.ended.add(id);
    this.consultations.rebuild(this.calls.values(), (id) => this.channels.get(id)?.linkedid);
  }

  /**
   * The user map changed (a directory refresh or a config reload): extensions still unmapped are reported again,
   * once each, so a log and the counter say what the new map misses instead of going silent for good.
   */
  userMapChanged(): void {
    this.unmappedReported.clear();
  }

  /** Uniqueids tracked now: what a resync may declare gone. */
  channelIds(): string[] {
    return this.channels.ids();
  }

  get lastEventTime(): number {
    return this.lastEventAt;
  }

  /** Records a channel snapshot, moves it if its Linkedid changed, and classifies its call. */
  private observe(snap: ChannelSnapshot, at: number, out: Effect[]): Call | undefined {
    if (this.ended.has(snap.linkedid)) return undefined;
    if (this.channels.isHungUp(snap.uniqueid)) return this.calls.get(snap.linkedid);
    let ch = this.channels.get(snap.uniqueid);
    if (!ch) {
      ch = { linkedid: snap.linkedid, name: snap.name, context: snap.context, bridge: undefined };
      this.channels.set(snap.uniqueid, ch);
    } else {
      if (ch.linkedid !== snap.linkedid) this.moveChannel(snap.uniqueid, ch, snap.linkedid, at, out);
      ch.name = snap.name;
      ch.context = snap.context;
    }
    let call = this.calls.get(snap.linkedid);
    if (!call) {
      call = newCall(snap.linkedid, at);
      this.calls.set(snap.linkedid, call);
    }
    call.channels.add(snap.uniqueid);
    this.classify(call, snap, out);
    return call;
  }

  /** Bridges rewrite a channel's Linkedid to the oldest one in the bridge (transfers): follow it. */
  private moveChannel(uniqueid: string, ch: { linkedid: string }, linkedid: string, at: number, out: Effect[]): void {
    const from = this.calls.get(ch.linkedid);
    ch.linkedid = linkedid;
    if (!from) return;
    from.channels.delete(uniqueid);
    endRing(this.cards, from, uniqueid, false, out);
    if (from.channels.size === 0) this.endCall(from, at, out);
  }

  private classify(call: Call, snap: ChannelSnapshot, out: Effect[]): void {
    if (call.direction !== undefined) {
      if (snap.uniqueid === call.customerChannel && !call.registered && !call.phoneNumber) {
        call.phoneNumber = cleanNumber(snap.callerIdNum);
      }
      return;
    }
    const direction = this.opts.classifier.directionOf(snap.context);
    if (direction === 'inbound') {
      call.direction = 'inbound';
      call.customerChannel = snap.uniqueid;
      call.phoneNumber = cleanNumber(snap.callerIdNum);
      call.lineNumber = looksLikeDid(snap.exten) ? snap.exten : this.opts.defaultLineNumber;
      transition(call, 'ringing');
    } else if (direction === 'outbound') {
      call.direction = 'outbound';
      call.originChannel = snap.uniqueid;
      call.placingExt = this.opts.classifier.extensionOf(snap.name);
      call.phoneNumber = cleanNumber(snap.exten);
      call.lineNumber = this.opts.defaultLineNumber;
      transition(call, 'ringing');
      const userId = call.placingExt === undefined ? undefined : this.userIdFor(call.placingExt, out);
      openCard(this.cards, call, userId, out);
    }
  }

  /** The call of a caller snapshot, only once its direction is known (internal calls get no cards). */
  private classifiedCall(caller: ChannelSnapshot, at: number, out: Effect[]): Call | undefined {
    const call = this.observe(caller, at, out);
    return call?.direction === undefined ? undefined : call;
  }

  private onDialBegin(caller: ChannelSnapshot | undefined, dest: ChannelSnapshot, at: number, out: Effect[]): void {
    if (caller) this.observe(caller, at, out);
    const call = this.observe(dest, at, out);
    if (call && call.direction === undefined && caller) return this.maybeConsultation(caller, dest, out);
    if (!call || call.direction === undefined) return;
    // Click-to-call: the caller-less dial is our Originate ringing the agent. It is the call's origin, not a ring
    // leg: the call is answered when the customer answers, and an unanswered agent leg still sets lastDialStatus.
    if (call.clickToCall && caller === undefined && call.originChannel === undefined) {
      call.originChannel = dest.uniqueid;
      return;
    }
    const fromOutboundContext = caller !== undefined && this.opts.classifier.directionOf(caller.context) === 'outbound';
    if (call.direction === 'outbound' && call.customerChannel === undefined && fromOutboundContext) {
      call.customerChannel = dest.uniqueid;
      if (caller && call.originChannel === undefined) call.originChannel = caller.uniqueid;
      return;
    }
    const ext = this.opts.classifier.extensionOf(dest.name);
    if (ext !== undefined && this.isAgentLeg(ext, dest.context)) startRing(this.cards, call, dest.uniqueid, ext, out);
  }

  /** An internal dial: if an agent talking to a customer placed it, it is the consultation of an attended transfer. */
  private maybeConsultation(caller: ChannelSnapshot, dest: ChannelSnapshot, out: Effect[]): void {
    const agentExt = this.opts.classifier.extensionOf(caller.name);
    const ext = this.opts.classifier.extensionOf(dest.name);
    if (agentExt === undefined || ext === undefined || ext === agentExt || !this.isAgentLeg(ext, dest.context)) return;
    const call = callTalkedOnBy(this.calls.values(), agentExt, caller.uniqueid, (id) => this.channels.get(id) !== undefined);
    if (call) this.consultations.start(this.cards, call, dest.uniqueid, ext, out);
  }

  /** The customer call a consultation leg belongs to (its own events carry the consultation's Linkedid). */
  private consultedCall(uniqueid: string): Call | undefined {
    const linkedid = this.consultations.linkedidOf(uniqueid);
    return linkedid === undefined ? undefined : this.calls.get(linkedid);
  }

  private onDialEnd(caller: ChannelSnapshot | undefined, dest: ChannelSnapshot, status: string, at: number, out: Effect[]): void {
    if (caller) this.observe(caller, at, out);
    const call = this.observe(dest, at, out);
    const consulted = this.consultedCall(dest.uniqueid);
    if (consulted && consulted !== call) return this.consultations.dialEnded(this.cards, consulted, dest.uniqueid, status, out);
    if (!call || call.direction === undefined) return;
    if (dest.uniqueid === call.customerChannel) {
      call.lastDialStatus = status;
      if (status === 'ANSWER' && call.placingExt !== undefined) this.markTalking(call, call.placingExt, call.originChannel, at, out);
      return;
    }
    const leg = call.ringing.get(dest.uniqueid);
    if (leg) {
      if (status === 'ANSWER') {
        endRing(this.cards, call, dest.uniqueid, true, out);
        this.markTalking(call, leg.ext, dest.uniqueid, at, out);
      } else {
        call.lastDialStatus = status;
        endRing(this.cards, call, dest.uniqueid, false, out);
      }
    } else if (!caller && status !== 'ANSWER') {
      // An originated leg (click-to-call rings the agent first) that was not answered.
      call.lastDialStatus = status;
    }
  }

  private onHangup(snap: ChannelSnapshot, cause: number, at: number, out: Effect[]): void {
    const call = this.observe(snap, at, out);
    this.channels.hangUp(snap.uniqueid);
    const consulted = this.consultedCall(snap.uniqueid);
    if (consulted && consulted !== call) this.legHungUp(consulted, snap.uniqueid, cause, out);
    this.consultations.hungUp(this.cards, consulted, snap.uniqueid, out);
    if (!call) return;
    this.legHungUp(call, snap.uniqueid, cause, out);
    call.channels.delete(snap.uniqueid);
    if (call.channels.size === 0) this.endCall(call, at, out);
  }

  /** A ring leg's Hangup comes after its DialEnd (or AgentRingNoAnswer): its Cause is read from either. */
  private legHungUp(call: Call, uniqueid: string, cause: number, out: Effect[]): void {
    if (!call.ringing.has(uniqueid) && !call.endedRings.has(uniqueid)) return;
    call.lastAgentHangupCause = cause;
    endRing(this.cards, call, uniqueid, false, out);
    call.endedRings.delete(uniqueid);
  }

  private onBridgeEnter(bridgeId: string, snap: ChannelSnapshot, at: number, out: Effect[]): void {
    const observed = this.observe(snap, at, out);
    // A consultation target may join the customer's bridge before its Linkedid says so.
    const call = this.consultedCall(snap.uniqueid) ?? observed;
    const members = this.channels.enterBridge(snap.uniqueid, bridgeId);
    if (!members || !call || call.direction === undefined || call.customerChannel === undefined || !members.has(call.customerChannel)) return;
    // The newest agent in a bridge with the customer is the one talking (answer, blind or attended transfer).
    // The call's own channels come first: when the customer is moved into the consultation's bridge, the target
    // talks, not the agent's consultation channel still sitting there with the consultation's Linkedid.
    const newestFirst = [...members].reverse();
    const own = (id: string) => this.channels.get(id)?.linkedid === call.linkedid || this.consultations.linkedidOf(id) === call.linkedid;
    const candidates = snap.uniqueid === call.customerChannel ? [...newestFirst.filter(own), ...newestFirst.filter((id) => !own(id))] : [snap.uniqueid];
    for (const id of candidates) {
      if (id === call.customerChannel) continue;
      const ext = this.agentExtOf(call, id);
      if (ext !== undefined) return this.markTalking(call, ext, id, at, out);
    }
  }

  private agentExtOf(call: Call, uniqueid: string): string | undefined {
    const ch = this.channels.get(uniqueid);
    if (!ch) return undefined;
    if (uniqueid === call.originChannel) return call.placingExt;
    const ext = this.opts.classifier.extensionOf(ch.name);
    return ext !== undefined && this.isAgentLeg(ext, ch.context) ? ext : undefined;
  }


  private onTransfer(input: Extract<CoreInput, { kind: 'transfer' }>, out: Effect[]): void {
    const { type, ok, target, at } = input;
    // Either side of an attended transfer may be the customer's call, depending on which dialog the phone used.
    let transferer = input.transferer;
    let call = transferer && this.classifiedCall(transferer, at, out);
    if (!call && input.secondTransferer) call = this.classifiedCall((transferer = input.secondTransferer), at, out);
    if (!call || !transferer) return;
    call.transfers.push(`${type}:${ok ? '' : 'failed:'}${target}`);
    if (!ok) return;
    // Attended: the consultation's target now talks to the customer (and the transferer's card closes with it).
    const consult = input.targetChannel && call.consults.get(input.targetChannel.uniqueid);
    if (consult && input.targetChannel) this.markTalking(call, consult.ext, input.targetChannel.uniqueid, at, out);
    // The card moves: the transferer's closes now, the target's opens when it rings.
    const ext = this.opts.classifier.extensionOf(transferer.name);
    const userId = ext === undefined ? undefined : this.userIdFor(ext, out);
    if (userId === undefined || !call.cards.has(userId)) return;
    for (const leg of call.ringing.values()) if (leg.userId === userId) return;
    call.cards.delete(userId);
    out.push({ type: 'hide', linkedid: call.linkedid, userIds: [userId] });
  }

  private markTalking(call: Call, ext: string, channel: string | undefined, at: number, out: Effect[]): void {
    if (call.answeredAt === undefined) {
      call.answeredAt = at;
      transition(call, 'talking');
    }
    const previous = call.talkingExt;
    if (channel !== undefined) call.consults.delete(channel);
    if (previous !== ext) call.talkedExts.push(ext);
    call.talkingExt = ext;
    call.talkingChannel = channel;
    if (previous !== undefined && previous !== ext) closeCardIfIdle(this.cards, call, this.userIdFor(previous, out), out);
  }

  private onClickToCall(input: Extract<CoreInput, { kind: 'clickToCall' }>, out: Effect[]): void {
    if (this.ended.has(input.linkedid) || this.calls.has(input.linkedid)) return;
    const call = newCall(input.linkedid, input.at);
    call.direction = 'outbound';
    call.clickToCall = true;
    call.registered = true;
    call.placingExt = input.ext;
    call.phoneNumber = input.number;
    transition(call, 'ringing');
    this.calls.set(input.linkedid, call);
    out.push({ type: 'bindCallId', linkedid: input.linkedid, callId: input.callId });
    if (input.card !== false) openCard(this.cards, call, input.userId, out);
  }

  private endCall(call: Call, at: number, out: Effect[]): void {
    transition(call, 'ended');
    this.forget(call.linkedid);
    finishEffects(this.end, call, at, out);
  }

  private isAgentLeg(ext: string, context: string): boolean {
    return this.opts.users.userIdFor(ext) !== undefined || this.opts.classifier.directionOf(context) === 'internal';
  }

  private userIdFor(ext: string, out: Effect[]): number | undefined {
    const id = this.opts.users.userIdFor(ext);
    if (id === undefined && !this.unmappedReported.has(ext)) {
      this.unmappedReported.add(ext);
      out.push({ type: 'unmappedExtension', ext });
    }
    return id;
  }

  private forget(linkedid: string): void {
    const call = this.calls.get(linkedid);
    if (call) this.consultations.forgetCall(call);
    this.calls.delete(linkedid);
    if (call) for (const id of call.channels) if (this.channels.get(id)?.linkedid === linkedid) this.channels.delete(id);
    remember(this.ended, linkedid, this.opts.tombstones ?? SNAPSHOT_TOMBSTONES);
  }
}

