import { CallBook } from './call-book.js';
import { ChannelBook, SNAPSHOT_TOMBSTONES } from './channel-book.js';
import type { ChannelClassifier } from './classify.js';
import { Consultations } from './consult.js';
import type { Effect } from './effects.js';
import type { CoreInputKind } from './events.js';
import { UserMap } from './users.js';

/**
 * The core's whole state and settings, passed explicitly to every step (dial.ts, queue.ts, talk.ts...), and the
 * turn: what one input is doing (its kind and time, and the effects it produces).
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
}

export interface Core {
  readonly classifier: ChannelClassifier;
  readonly defaultUserId: number;
  readonly crmCreate: { readonly inbound: boolean; readonly outbound: boolean };
  readonly defaultLineNumber: string;
  readonly showCards: boolean;
  readonly recordingVariables: ReadonlySet<string>;
  readonly calls: CallBook;
  readonly channels: ChannelBook;
  readonly consultations: Consultations;
  readonly users: UserMap;
  /** Time of the latest input: the best known end for calls that vanish meanwhile. */
  lastEventAt: number;
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
    calls: new CallBook(tombstones),
    channels: new ChannelBook(tombstones * 8),
    consultations: new Consultations(),
    users: new UserMap(opts.users),
    lastEventAt: 0,
  };
}

/** One input on its way through the core. */
export interface Turn {
  readonly kind: CoreInputKind;
  readonly at: number;
  readonly out: Effect[];
}

export function newTurn(kind: CoreInputKind, at: number): Turn {
  return { kind, at, out: [] };
}
