/**
 * The live view's state, as GET /status.json and every server-sent event carry it. Keys are a contract (the page,
 * monitoring scripts): add, never rename. Times are epoch ms on the daemon's clock; the page turns them into ages
 * against `generatedAt`, so a snapshot changes only when the state does.
 */

export interface StatusSnapshot {
  version: 1;
  generatedAt: number;
  ami: {
    connected: boolean;
    /** From CoreSettings (AsteriskVersion); null until read or when the AMI user may not read it. */
    asteriskVersion: string | null;
    /** Boot time from FullyBooted's Uptime; null until seen. */
    bootedAt: number | null;
    /** Since when connected, or since when down (null: never connected). */
    since: number | null;
  };
  portal: {
    reachable: boolean;
    /** Why it counts as down (an error code and method, no URL). */
    problem: string | null;
    mode: 'webhook' | 'app';
    /** App mode only: the application's authorisation (no token values). */
    token: { state: 'authorised'; refreshTokenExpiresAt: number } | { state: 'required'; reason: string } | null;
    requestsLastMinute: number;
    /** What the configured rate allows in a minute (bitrix.rateLimit.perSecond x 60), and the burst on top. */
    budgetPerMinute: number;
    burst: number;
    lastRefusal: { at: number; method: string; code: string } | null;
  };
  calls: StatusCall[];
  /** Calls the core tracks (the `b24bridge_active_calls` gauge): `calls` lists those it knows as customer calls. */
  callsTracked: number;
  setAside: StatusSetAside[];
  outbox: {
    depth: number;
    oldestCreatedAt: number | null;
    parked: StatusParked[];
  };
  recordings: { waiting: number };
  /** Calls waiting for their transcript (at the speech-to-text server or in the outbox); null: transcripts are off. */
  transcripts: { waiting: number } | null;
  errors: StatusError[];
  /** Whether the page's actions can work at all: a token is configured, or only this machine may act. */
  actions: { tokenConfigured: boolean };
}

export interface StatusPerson {
  ext: string | null;
  userId: number | null;
}

export interface StatusCall {
  linkedid: string;
  direction: 'inbound' | 'outbound' | null;
  /** The customer's number as Asterisk gave it. */
  number: string;
  /** The CRM contact's or company's name, when a lookup found one. */
  crmName: string | null;
  queue: string | null;
  state: 'ringing' | 'talking' | 'onHold';
  /** When the current state began. */
  since: number;
  startedAt: number;
  /** Members being rung now. */
  ringing: StatusPerson[];
  /** Bitrix24 users whose card is open. */
  cards: StatusPerson[];
  /** The agent talking (null while ringing). */
  agent: StatusPerson | null;
  /** Bitrix24 knows the call (registered). */
  registered: boolean;
}

export interface StatusSetAside {
  queue: string;
  iface: string;
  member: string;
  policy: 'pause' | 'penalty';
  /** applying: sent, not confirmed; active; undoing: the undo is on its way. */
  phase: 'applying' | 'active' | 'undoing';
  since: number;
  undoAt: number;
  /** penalty only. */
  penalty: number | null;
  restoreTo: number | null;
}

export interface StatusParked {
  seq: number;
  method: string;
  /** The call (Linkedid) it belongs to. */
  call: string;
  error: string;
  parkedAt: number;
  /** Parked because this register is: it comes back with it. */
  dependsOn: number | null;
}

export interface StatusError {
  level: 'warn' | 'error' | 'fatal';
  message: string;
  count: number;
  firstAt: number;
  lastAt: number;
}
