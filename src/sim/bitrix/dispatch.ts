/**
 * Method registry and execution: method lookup (404), scope check (401), the auth-type gate (403),
 * handler call, and the `.commands` log — shared by HTTP calls and batch, which runs its commands
 * under the auth of the batch itself.
 */
import type { PortalApp } from './app/portal-app.js';
import { RestError, systemErrors, type MethodReply } from './envelope.js';
import type { MultipartFile } from './multipart.js';
import type { Params } from './php.js';
import type { EmulatorState } from './state.js';
import type { CommandRecord } from './types.js';

/** Who is calling: an inbound webhook (apauth) or the application's access token (oauth). */
export interface CallerAuth {
  type: 'webhook' | 'app';
  /** Whose rights the call runs with: the webhook owner or the token's user. */
  userId: number;
  scopes: readonly string[];
  /** REST_APP_ID of what the call creates: null for a webhook. */
  appId: number | null;
  /** The access token itself (app auth), for links the portal builds with it (upload URLs). */
  accessToken: string | null;
}

/** Portal-wide switches tests flip at run time. */
export interface PortalPolicy {
  /** The documented 2026 rule: inbound webhooks may not call register, finish, externalLine.*. */
  refuseWebhookTelephony: boolean;
  /** The plan feature rest_offline_extended (event.offline.get with clear=0). */
  offlineExtended: boolean;
}

export interface MethodContext {
  readonly state: EmulatorState;
  readonly clock: () => number;
  readonly offsetMinutes: number;
  /** Same as auth.scopes / auth.userId, kept for the handlers that predate app auth. */
  readonly scopes: readonly string[];
  readonly ownerId: number;
  readonly auth: CallerAuth;
  /** The installed application; null when the emulator runs without `app`. */
  readonly app: PortalApp | null;
  readonly policy: PortalPolicy;
  /** `${url}/rest/` of this emulator. */
  readonly restBase: string;
  /** `…/rest/{uid}/{code}/` of this emulator, for upload URLs. */
  readonly webhookBase: string;
  /** Secret used to sign upload tokens. */
  readonly tokenSecret: string;
  readonly viaBatch: boolean;
  /** Files of a multipart request (PHP `$_FILES`); empty otherwise. */
  readonly files: readonly MultipartFile[];
  /**
   * A plain `RestException($message)`: HTTP 400 with the configured code, '' by default
   * (docs/reference/bitrix24-rest.md#empty-error-codes).
   */
  fail(message: string): RestError;
  /** Runs another method as a batch sub-command. */
  callSub(method: string, params: Params): Promise<CallOutcome>;
  methodNames(): string[];
}

export type MethodHandler = (params: Params, ctx: MethodContext) => MethodReply | Promise<MethodReply>;

/**
 * - 'app': application auth only (rest/lib/api/event.php: `getAuthType() !== Oauth\Auth::AUTH_TYPE`);
 * - 'telephony': vi_rest.php lets oauth and apauth through; `policy.refuseWebhookTelephony` turns the
 *   documented 2026 rule on, refusing apauth too.
 */
export type AuthGate = 'app' | 'telephony';

export interface MethodDef {
  /** Any one of these scopes grants access; null = global method. */
  scopes: string[] | null;
  handler: MethodHandler;
  gate?: AuthGate;
}

export type CallOutcome =
  | { ok: true; reply: MethodReply; startMs: number; finishMs: number }
  | { ok: false; error: RestError; startMs: number; finishMs: number };

export type BaseContext = Omit<
  MethodContext,
  'viaBatch' | 'files' | 'callSub' | 'methodNames' | 'auth' | 'scopes' | 'ownerId'
>;

export class Dispatcher {
  constructor(
    private readonly methods: ReadonlyMap<string, MethodDef>,
    private readonly base: BaseContext,
    private readonly log: (record: CommandRecord) => void,
  ) {}

  /** `method` must already be lowercased (docs/reference/bitrix24-rest.md#method-names). */
  async call(
    method: string,
    params: Params,
    viaBatch: boolean,
    auth: CallerAuth,
    files: readonly MultipartFile[] = [],
  ): Promise<CallOutcome> {
    const startMs = this.base.clock();
    const def = this.methods.get(method);
    if (!def) return { ok: false, error: systemErrors.methodNotFound(), startMs, finishMs: startMs };
    if (def.scopes && !def.scopes.some((s) => auth.scopes.includes(s))) {
      return { ok: false, error: systemErrors.insufficientScope(auth.type), startMs, finishMs: startMs };
    }
    const ctx: MethodContext = {
      ...this.base,
      auth,
      scopes: auth.scopes,
      ownerId: auth.userId,
      viaBatch,
      files,
      fail: this.base.fail,
      callSub: (m, p) => this.call(m, p, true, auth),
      methodNames: () => this.namesFor(auth.scopes),
    };
    const record = { at: startMs, method, params, viaBatch, authType: auth.type };
    try {
      // The gate is the handler's first statement in the source, so a refusal is an executed, failed command.
      if (this.refused(def.gate, auth)) throw systemErrors.wrongAuthType();
      const reply = await def.handler(params, ctx);
      this.log({ ...record, ok: true, result: reply.result });
      return { ok: true, reply, startMs, finishMs: this.base.clock() };
    } catch (err) {
      // A non-RestException becomes ERROR_CORE with its message (docs/reference/bitrix24-rest.md#error-envelope).
      const error =
        err instanceof RestError ? err : new RestError(500, 'ERROR_CORE', err instanceof Error ? err.message : String(err));
      this.log({ ...record, ok: false, error: error.body() });
      return { ok: false, error, startMs, finishMs: this.base.clock() };
    }
  }

  private refused(gate: AuthGate | undefined, auth: CallerAuth): boolean {
    if (gate === 'app') return auth.type !== 'app';
    if (gate === 'telephony') return auth.type === 'webhook' && this.base.policy.refuseWebhookTelephony;
    return false;
  }

  private namesFor(scopes: readonly string[]): string[] {
    return [...this.methods]
      .filter(([name, def]) => name !== 'upload' && (def.scopes === null || def.scopes.some((s) => scopes.includes(s))))
      .map(([name]) => name);
  }
}
