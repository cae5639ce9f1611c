import type { ActionHeaders } from './actions.js';
import type { AmiMessage, FramerOutput } from './types.js';

/** A list action's Response plus every event of the list (the `...Complete` one included). */
export interface AmiResponse {
  response: AmiMessage;
  events: AmiMessage[];
}

export interface ActionOptions {
  /** Default 10 000 ms. */
  timeoutMs?: number;
}

export type AmiActionErrorCode =
  | 'UNSAFE_HEADER'
  | 'TIMEOUT'
  | 'DISCONNECTED'
  | 'ACTION_FAILED'
  | 'AUTH_FAILED'
  | 'CONNECT_FAILED';

/** Every failure of the AMI client. Messages never carry header values such as the login secret. */
export class AmiActionError extends Error {
  override readonly name = 'AmiActionError';

  constructor(
    readonly code: AmiActionErrorCode,
    message: string,
    /** Set when it concerns one action. */
    readonly action?: string,
    readonly actionId?: string,
    /** The `Response: Error` message, for ACTION_FAILED / AUTH_FAILED. */
    readonly response?: AmiMessage,
  ) {
    super(message);
  }
}

export type FramingError = Extract<FramerOutput, { type: 'error' }>;

/** Events an AmiClient emits, with their listener arguments. */
export interface AmiClientEvents {
  /** Every server event that is not part of a pending action's list. */
  event: [AmiMessage];
  /** Logged in and filters installed. */
  connected: [{ banner: string; amiVersion: string }];
  disconnected: [{ reason: string }];
  reconnecting: [{ attempt: number; delayMs: number }];
  authFailed: [{ message: string }];
  framingError: [FramingError];
  fullyBooted: [AmiMessage];
  /** FullyBooted showing a later boot time (now minus Uptime) than before, or after a Shutdown event. */
  asteriskRestarted: [{ uptime: number }];
}

export type AmiClientEventName = keyof AmiClientEvents;

/** What the rest of the daemon needs from an AMI connection. */
export interface AmiClient {
  /** Resolves after a successful login (and filters); rejects on the first failed attempt while retrying on. */
  connect(): Promise<void>;
  /** Logoff, then end the socket; no reconnect after this. */
  close(): Promise<void>;
  /** Rejects at once with DISCONNECTED when not logged in: actions are never queued for later. */
  action(name: string, headers?: ActionHeaders, opts?: ActionOptions): Promise<AmiResponse>;
  readonly isConnected: boolean;
  on<K extends AmiClientEventName>(event: K, listener: (...args: AmiClientEvents[K]) => void): this;
  once<K extends AmiClientEventName>(event: K, listener: (...args: AmiClientEvents[K]) => void): this;
  off<K extends AmiClientEventName>(event: K, listener: (...args: AmiClientEvents[K]) => void): this;
}

/** pino-compatible subset: (object, message). */
export interface AmiLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}
