import { CallBook } from './call-book.js';
import { ChannelBook, SNAPSHOT_TOMBSTONES } from './channel-book.js';
import type { ChannelClassifier } from './classify.js';
import { Consultations } from './consult.js';
import type { Effect } from './effects.js';
import type { CoreInputKind } from './events.js';
import { DEFAULT_LIMITS, type TrackingLimits } from './limits.js';
import { UserMap } from './users.js';

/**
 * The core's whole state and settings, passed explicitly to every step (dial.ts, queue.ts, talk.ts...), and the
 * turn: what one input is doing (its kind and time, the effects it produces, the calls it is about).
 */

export interface TrackerOptions {
  classifier: ChannelClassifier;
  defaultUserId: number;
  crmCreate: { inbound: boolean; outbound: boolean };
  defaultLineNumber: string;
  showCards: boolean;
  /** The user map to start with (later ones come as `userMap` inputs; a restored snapshot brings its own). */
  users?: Readonly<Record<string, number>>;
  /**
   * How many ended Linkedids are remembered so late events cannot start a call again (8 hung-up channels each).
   * Late events come within seconds; the default is what a snapshot keeps across a restart anyway.
   */
  tombstones?: number;
  /** Channel variables that carry a recording's absolute path (default MIXMONITOR_FILENAME). */
  recordingVariables?: readonly string[];
  /** At most this many calls and channels are tracked (limits.ts says why the defaults). */
  limits?: Partial<TrackingLimits>;
}

export interface Core {
  readonly classifier: ChannelClassifier;
  readonly defaultUserId: number;
  readonly crmCreate: { readonly inbound: boolean; readonly outbound: boolean };
  readonly defaultLineNumber: string;
  readonly showCards: boolean;
  readonly recordingVariables: ReadonlySet<string>;
  readonly limits: TrackingLimits;
  readonly calls: CallBook;
  readonly channels: ChannelBook;
  readonly consultations: Consultations;
  readonly users: UserMap;
  /** When Asterisk was last heard from (tracker.ts: NOT_FROM_PBX): the next run is blind since then. */
  lastEventAt: number;
  /** Everything evicted since the start (limits.ts). */
  readonly evicted: { calls: number; channels: number };
}

export function createCore(opts: TrackerOptions): Core {
  const tombstones = opts.tombstones ?? SNAPSHOT_TOMBSTONES;
  return {
    classifier: opts.classifier,
    defaultUserId: opts.defaultUserId,
    crmCreate: opts.crmCreate,
    defaultLineNumber: opts.defaultLineNumber,
    showCards: opts.showCards,
    recordingVariables: new Set(opts.recordingVariables ?? ['MIXMONITOR_FILENAME']),
    limits: { ...DEFAULT_LIMITS, ...opts.limits },
    calls: new CallBook(tombstones),
    channels: new ChannelBook(tombstones * 8),
    consultations: new Consultations(),
    users: new UserMap(opts.users),
    lastEventAt: 0,
    evicted: { calls: 0, channels: 0 },
  };
}

/** One input on its way through the core. */
export interface Turn {
  readonly kind: CoreInputKind;
  readonly at: number;
  readonly out: Effect[];
  /** Linkedids this input has looked at: never evicted while it runs. */
  readonly seen: Set<string>;
  evictedCalls: number;
  evictedChannels: number;
}

export function newTurn(kind: CoreInputKind, at: number): Turn {
  return { kind, at, out: [], seen: new Set(), evictedCalls: 0, evictedChannels: 0 };
}
