import { createHash } from 'node:crypto';
import { hangup, originate } from '../ami/actions.js';
import { AmiActionError, type AmiClient } from '../ami/client.js';
import { field } from '../ami/types.js';

/**
 * Starting the two-leg call: the first leg (agent or queue) is rung, and when it answers Asterisk runs
 * `context,exten,1`, which dials the customer. Two ways to ask Asterisk for it: AMI Originate (default) or ARI
 * (src/clicktocall/ari.ts). Both report failures with the same codes so the service has one error path.
 */

export interface OriginateRequest {
  /** First leg, e.g. PJSIP/101 or Local/101@from-internal/n. */
  channel: string;
  context: string;
  /** Customer number as dialled. */
  exten: string;
  callerId: string;
  /** How long the first leg rings. */
  timeoutMs: number;
  /** Uniqueid (and so Linkedid) of the first leg: the core names the call by it. */
  channelId: string;
  /** Uniqueid of a Local channel's ;2 half. */
  otherChannelId: string;
  variables: Record<string, string>;
}

export type OriginateErrorCode = 'PBX_UNAVAILABLE' | 'ORIGINATE_FAILED' | 'INTERNAL';

export class OriginateError extends Error {
  override readonly name = 'OriginateError';

  constructor(
    readonly code: OriginateErrorCode,
    message: string,
    /** The request went out but no answer came back in time: a slow Asterisk may still run it later. */
    readonly mayStillRun = false,
  ) {
    super(message);
  }
}

export interface Originator {
  /** Resolves once Asterisk accepted (queued) the call; actionId lets an OriginateResponse be matched later. */
  originate(req: OriginateRequest): Promise<{ actionId?: string }>;
}

/**
 * AMI Originate with Async: true (a synchronous one would block until answer). The client rejects at once with
 * DISCONNECTED while AMI is down and never queues the action, so a click can never ring minutes later.
 */
export function amiOriginator(ami: AmiClient, opts: { actionTimeoutMs?: number } = {}): Originator {
  return {
    async originate(req) {
      const action = originate({
        channel: req.channel,
        context: req.context,
        exten: req.exten,
        priority: 1,
        callerId: req.callerId,
        timeoutMs: req.timeoutMs,
        variables: req.variables,
        channelId: req.channelId,
        otherChannelId: req.otherChannelId,
        async: true,
      });
      try {
        const res = await ami.action(action.action, action.headers, { timeoutMs: opts.actionTimeoutMs ?? 10_000 });
        const actionId = field(res.response, 'ActionID');
        return actionId === undefined ? {} : { actionId };
      } catch (err) {
        throw fromAmiError(err);
      }
    },
  };
}

/** AMI Hangup of one channel (the typed builder refuses CR/LF and regular expressions). */
export function amiHangup(ami: AmiClient, opts: { actionTimeoutMs?: number } = {}): (channel: string) => Promise<void> {
  return async (channel) => {
    const action = hangup({ channel });
    await ami.action(action.action, action.headers, { timeoutMs: opts.actionTimeoutMs ?? 10_000 });
  };
}

function fromAmiError(err: unknown): OriginateError {
  if (!(err instanceof AmiActionError)) return new OriginateError('INTERNAL', 'originate failed unexpectedly');
  switch (err.code) {
    case 'DISCONNECTED':
    case 'CONNECT_FAILED':
    case 'AUTH_FAILED':
      return new OriginateError('PBX_UNAVAILABLE', 'Asterisk (AMI) is not connected');
    case 'TIMEOUT':
      // The action went out: a hung Asterisk might still run it. The service hangs our ChannelId up (README).
      return new OriginateError('PBX_UNAVAILABLE', 'Asterisk (AMI) did not answer the Originate in time', true);
    case 'ACTION_FAILED': {
      const text = err.response === undefined ? undefined : field(err.response, 'Message');
      return new OriginateError('ORIGINATE_FAILED', `Asterisk refused the Originate: ${(text ?? 'error').slice(0, 200)}`);
    }
    default:
      return new OriginateError('INTERNAL', 'refused to build an unsafe Originate');
  }
}

/**
 * A Uniqueid for the first leg: `c2c-<16 hex of sha1(key)>-<time>-<n>`. The hash ties logs to the CALL_ID without
 * copying it; time and counter make it unique across repeats and restarts. Only [a-z0-9-], far below Asterisk's
 * 149-character limit.
 */
export function channelIdFor(prefix: 'c2c' | 'cb', key: string, now: number, counter: number): string {
  const hash = createHash('sha1').update(key, 'utf8').digest('hex').slice(0, 16);
  return `${prefix}-${hash}-${Math.max(0, Math.floor(now)).toString(36)}-${counter.toString(36)}`;
}

/** `PJSIP/{ext}` + {ext: '101'} -> `PJSIP/101`. Unknown placeholders stay as they are (config rejects them). */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{([a-z]+)\}/g, (whole, name: string) => values[name] ?? whole);
}
