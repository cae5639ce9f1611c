/**
 * Method registry and execution: method lookup (404), scope check (401),
 * handler call, and the `.commands` log — shared by HTTP calls and batch.
 */
import { RestError, systemErrors, type MethodReply } from './envelope.js';
import type { MultipartFile } from './multipart.js';
import type { Params } from './php.js';
import type { EmulatorState } from './state.js';
import type { CommandRecord } from './types.js';

export interface MethodContext {
  readonly state: EmulatorState;
  readonly clock: () => number;
  readonly offsetMinutes: number;
  readonly scopes: readonly string[];
  readonly ownerId: number;
  /** `…/rest/{uid}/{code}/` of this emulator, for upload URLs. */
  readonly webhookBase: string;
  /** Secret used to sign upload tokens. */
  readonly tokenSecret: string;
  readonly viaBatch: boolean;
  /** Files of a multipart request (PHP `$_FILES`); empty otherwise. */
  readonly files: readonly MultipartFile[];
  /** A plain `RestException($message)`: HTTP 400 with the configured code, '' by default (§2.2). */
  fail(message: string): RestError;
  /** Runs another method as a batch sub-command. */
  callSub(method: string, params: Params): Promise<CallOutcome>;
  methodNames(): string[];
}

export type MethodHandler = (params: Params, ctx: MethodContext) => MethodReply | Promise<MethodReply>;

export interface MethodDef {
  /** Any one of these scopes grants access; null = global method. */
  scopes: string[] | null;
  handler: MethodHandler;
}

export type CallOutcome =
  | { ok: true; reply: MethodReply; startMs: number; finishMs: number }
  | { ok: false; error: RestError; startMs: number; finishMs: number };

export type BaseContext = Omit<MethodContext, 'viaBatch' | 'files' | 'callSub' | 'methodNames'>;

export class Dispatcher {
  constructor(
    private readonly methods: ReadonlyMap<string, MethodDef>,
    private readonly base: BaseContext,
    private readonly log: (record: CommandRecord) => void,
  ) {}

  /** `method` must already be lowercased (§1: method names are case-insensitive). */
  async call(method: string, params: Params, viaBatch: boolean, files: readonly MultipartFile[] = []): Promise<CallOutcome> {
    const startMs = this.base.clock();
    const def = this.methods.get(method);
    if (!def) return { ok: false, error: systemErrors.methodNotFound(), startMs, finishMs: startMs };
    if (def.scopes && !def.scopes.some((s) => this.base.scopes.includes(s))) {
      return { ok: false, error: systemErrors.insufficientScope(), startMs, finishMs: startMs };
    }
    const ctx: MethodContext = {
      ...this.base,
      viaBatch,
      files,
      fail: this.base.fail,
      callSub: (m, p) => this.call(m, p, true),
      methodNames: () => this.namesFor(this.base.scopes),
    };
    try {
      const reply = await def.handler(params, ctx);
      this.log({ at: startMs, method, params, ok: true, result: reply.result, viaBatch });
      return { ok: true, reply, startMs, finishMs: this.base.clock() };
    } catch (err) {
      // A non-RestException becomes ERROR_CORE with its message (§2.2).
      const error =
        err instanceof RestError ? err : new RestError(500, 'ERROR_CORE', err instanceof Error ? err.message : String(err));
      this.log({ at: startMs, method, params, ok: false, error: error.body(), viaBatch });
      return { ok: false, error, startMs, finishMs: this.base.clock() };
    }
  }

  private namesFor(scopes: readonly string[]): string[] {
    return [...this.methods]
      .filter(([name, def]) => name !== 'upload' && (def.scopes === null || def.scopes.some((s) => scopes.includes(s))))
      .map(([name]) => name);
  }
}
