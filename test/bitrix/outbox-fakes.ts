import type { BatchCommand, BatchOutcome, BitrixClient } from '../../src/bitrix/client.js';
import { BitrixError } from '../../src/bitrix/errors.js';
import { MemoryOutboxStore, type OutboxStore } from '../../src/bitrix/outbox-entry.js';
import { Outbox, type OutboxOptions } from '../../src/bitrix/outbox.js';
import { silentLogger } from '../support/logger.js';

/** Shared fakes for the outbox tests: a scripted portal that records every batch, and a log sink. */

export function fakeClient(answer: (cmds: BatchCommand[], n: number) => BatchOutcome | Promise<BatchOutcome>) {
  const batches: BatchCommand[][] = [];
  const client: BitrixClient = {
    call: async () => {
      throw new Error('not used');
    },
    batch: async (cmds) => {
      batches.push(cmds);
      return answer(cmds, batches.length);
    },
  };
  return { client, batches };
}

export const ok = (cmds: BatchCommand[]): BatchOutcome => ({
  results: Object.fromEntries(cmds.map((c) => [c.key, c.method.endsWith('register') ? { CALL_ID: `externalCall.${c.key}` } : true])),
  errors: {},
});

export const contractError = (method: string, description: string) =>
  new BitrixError({ kind: 'fatal', errorCode: 'CONTRACT', code: '', description, method, httpStatus: 400 });

export interface LogLine {
  level: string;
  obj: object;
  msg: string;
}

export function logSink() {
  const lines: LogLine[] = [];
  const at = (level: string) => (obj: object, msg: string) => void lines.push({ level, obj, msg });
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

export function makeOutbox(client: BitrixClient, extra: Partial<OutboxOptions> = {}, store: OutboxStore = new MemoryOutboxStore()) {
  return new Outbox({ client, store, clock: Date.now, limiterDelay: () => 0, logger: silentLogger, lingerMs: 1, initialRetryDelayMs: 5, maxRetryDelayMs: 20, random: () => 0.5, ...extra });
}

export const REGISTER = 'telephony.externalcall.register';
export const SHOW = 'telephony.externalcall.show';
export const HIDE = 'telephony.externalcall.hide';
export const FINISH = 'telephony.externalcall.finish';
export const ATTACH = 'telephony.externalCall.attachRecord';
