/**
 * Bitrix24 REST emulator, strict to /work/shared/reference/bitrix24-telephony.md.
 * Used by the test-suite and by the daemon's demo mode.
 *
 * Emulated:
 * - Inbound webhook routes `/rest/{uid}/{code}/{method}[.json][/]` (GET/POST), lowercased
 *   methods, 401 INVALID_CREDENTIALS / insufficient_scope, 404 ERROR_METHOD_NOT_FOUND.
 * - Parameter parsing: query + body (body wins); JSON (invalid → empty), PHP parse_str for
 *   everything else incl. brackets and `[]`, multipart fields; PHP casts/truthiness in handlers.
 * - Envelopes with `time`, errors without it, `[]` for empty arrays, list `total`/`next`.
 * - Leaky bucket per portal (503 QUERY_LIMIT_EXCEEDED, request not executed) on an injectable clock.
 * - batch: cmd object/array, halt, `$result[…]` references, 50-command limit, batch/upload not allowed.
 * - telephony.externalcall.register/show/hide/finish/attachRecord/searchCrmEntities,
 *   telephony.externalLine.*, the upload URL flow; user.get/user.current; crm.duplicate.findbycomm,
 *   crm.lead.add, crm.{lead,contact,company}.get, crm.timeline.comment.add; im.notify,
 *   tasks.task.add; profile, scope, methods, server.time, app.info.
 * - Events ONEXTERNALCALLSTART (with the internal register) / ONEXTERNALCALLBACKSTART.
 * - Faults: failNext, portal down (HTTP status, connection reset, hang), recovery.
 *
 * Simplified:
 * - Webhook auth only (no OAuth, no HTTPS check, no `.xml`); one webhook, one REST app (null).
 * - CRM phone matching compares digits only; primary entity order contact → company → lead;
 *   no deals, no e-mails, no permissions; activities are just ids.
 * - PHP arrays with mixed numeric/string keys iterate in JS order (integer keys first).
 * - strtotime accepts ISO-8601-like forms, `@unix`, `now` and RFC 2822 only.
 * - No per-method OPERATION_TIME_LIMIT (`time.operating` is always 0), no max_input_vars.
 * - Push&Pull is not emulated: shown/hidden cards are recorded on `calls`; ADD_TO_CHAT is
 *   recorded in `state.chatMessages`; finish's deprecated RECORD_URL is fetched in the background.
 * - Where the source and the contract wording differ the source wins: base64 that decodes to
 *   nothing is "not properly encoded"; extension checks are case-sensitive (GetFileExtension).
 * - Texts not in the contract are best guesses: a forged upload token → 403 ACCESS_DENIED,
 *   findbycomm descriptions, im.notify / tasks.task.add / crm.timeline.comment.add errors (docs).
 * - A webhook owner missing from the user seed is accepted (only a seeded inactive owner fails).
 * - A numeric `setDown` answers with a small nginx-like HTML body; `untilMs` is an absolute
 *   emulator-clock time, `hangFor(ms)` the duration form.
 */
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Dispatcher, type BaseContext } from './bitrix/dispatch.js';
import { RestError, parseOffset } from './bitrix/envelope.js';
import { registerInternal, sendEvent, type EventName, type InternalRegisterInput, type SendEventOptions } from './bitrix/events.js';
import { Faults, type FaultControls } from './bitrix/faults.js';
import { LeakyBucket } from './bitrix/leaky-bucket.js';
import { methodTable } from './bitrix/methods/index.js';
import type { Params } from './bitrix/php.js';
import { handleRequest } from './bitrix/server.js';
import { EmulatorState } from './bitrix/state.js';
import type {
  CallState,
  CommandRecord,
  EmulatorOptions,
  EventRecord,
  RecordAttachment,
  RequestRecord,
  StatisticRow,
} from './bitrix/types.js';

export type * from './bitrix/types.js';
export type { FaultControls, FailureSpec, DownMode } from './bitrix/faults.js';
export type { EventName, SendEventOptions, InternalRegisterInput } from './bitrix/events.js';
export type { EmulatorState } from './bitrix/state.js';

const DEFAULT_SCOPES = ['telephony', 'crm', 'user', 'im', 'task'];
const DEFAULT_MEMBER_ID = '5f2b8e1c9d4a7b3e6f0a1c2d3e4f5a6b';

export class BitrixEmulator {
  readonly requests: RequestRecord[] = [];
  readonly commands: CommandRecord[] = [];
  readonly events: EventRecord[] = [];
  /** Users, CRM, lines, notifications, tasks, comments, activities, chat messages. */
  readonly state: EmulatorState;
  readonly webhookUrl: string;
  private readonly faultsImpl: Faults;
  private readonly bucket: LeakyBucket;
  private readonly base: BaseContext;
  private closing = false;

  constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly opts: Required<Omit<EmulatorOptions, 'host' | 'port' | 'rateLimit' | 'crm'>> &
      Pick<EmulatorOptions, 'rateLimit' | 'crm'>,
  ) {
    const clock = opts.clock;
    this.webhookUrl = `${url}/rest/${opts.userId}/${opts.webhookCode}/`;
    this.state = new EmulatorState(opts.users, opts.crm ?? {});
    this.faultsImpl = new Faults(clock);
    const limit = opts.rateLimit;
    this.bucket = new LeakyBucket(limit === false || limit === undefined ? false : limit, clock);
    this.base = {
      state: this.state,
      clock,
      offsetMinutes: parseOffset(opts.portalTimezoneOffset),
      scopes: opts.scopes,
      ownerId: opts.userId,
      webhookBase: this.webhookUrl,
      tokenSecret: randomBytes(16).toString('hex'),
      fail: (message) => new RestError(400, opts.errorCode, message),
    };
    const dispatcher = new Dispatcher(methodTable(), this.base, (c) => this.commands.push(c));
    server.on('request', (req, res) => {
      handleRequest(
        {
          clock,
          offsetMinutes: this.base.offsetMinutes,
          userId: opts.userId,
          webhookCode: opts.webhookCode,
          maxBodyBytes: opts.maxBodyBytes,
          faults: this.faultsImpl,
          bucket: this.bucket,
          dispatcher,
          requests: this.requests,
          ownerInactive: () => this.state.users.get(opts.userId)?.active === false,
          isClosing: () => this.closing,
        },
        req,
        res,
      ).catch((err: unknown) => {
        // An emulator bug must not crash the test process; answer like an unexpected PHP error.
        const description = err instanceof Error ? err.message : String(err);
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(500, { 'Content-Type': 'application/json; charset=utf-8' });
          res.end(JSON.stringify({ error: 'ERROR_CORE', error_description: description }));
        }
      });
    });
  }

  get faults(): FaultControls {
    return this.faultsImpl;
  }

  /** Calls by CALL_ID; finished ones stay with `finished: true`. */
  get calls(): Map<string, CallState> {
    return this.state.calls;
  }

  get statistics(): StatisticRow[] {
    return this.state.statistics;
  }

  get records(): RecordAttachment[] {
    return this.state.records;
  }

  /** Current leaky-bucket level (requests not yet drained). */
  get rateLimitFill(): number {
    return this.bucket.fill;
  }

  /** Back to the seeded state; logs are emptied in place, faults cleared. */
  reset(): void {
    this.requests.length = 0;
    this.commands.length = 0;
    this.events.length = 0;
    this.state.reset();
    this.bucket.reset();
    this.faultsImpl.clear();
  }

  /** Registers a call the way Bitrix does for click-to-call; throws on validation errors. */
  registerInternal(input: InternalRegisterInput): Record<string, unknown> {
    return registerInternal({ ctx: this.base }, input);
  }

  /** POSTs an event like Bitrix's queue; resolves with the CALL_ID for ONEXTERNALCALLSTART. */
  sendEvent(targetUrl: string, event: EventName, data: Params, options: SendEventOptions): Promise<string | undefined> {
    const deps = { ctx: this.base, url: this.url, memberId: this.opts.memberId, events: this.events };
    return sendEvent(deps, targetUrl, event, data, options);
  }

  async close(): Promise<void> {
    this.closing = true;
    this.faultsImpl.dispose();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

export async function startBitrixEmulator(options: EmulatorOptions = {}): Promise<BitrixEmulator> {
  const userId = options.userId ?? 1;
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return new BitrixEmulator(server, `http://${host}:${address.port}`, {
    userId,
    webhookCode: options.webhookCode ?? 'testcode123',
    rateLimit: options.rateLimit ?? { perSecond: 2, burst: 50 },
    clock: options.clock ?? Date.now,
    scopes: options.scopes ?? DEFAULT_SCOPES,
    errorCode: options.errorCode ?? '',
    users: options.users ?? [{ ID: userId, NAME: 'Webhook', LAST_NAME: 'Owner', ACTIVE: true, ADMIN: true }],
    crm: options.crm,
    portalTimezoneOffset: options.portalTimezoneOffset ?? '+03:00',
    maxBodyBytes: options.maxBodyBytes ?? 64 * 1024 * 1024,
    memberId: options.memberId ?? DEFAULT_MEMBER_ID,
  });
}
