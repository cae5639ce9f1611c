/**
 * What a Bitrix24 answer means: the envelope of one call turned into its `result` or a BitrixError, a batch's
 * result into per-command outcomes, and no answer at all into a network failure. Every text taken from the
 * answer goes through `scrub`, so a secret the portal echoes never reaches an error or a log line.
 */
import { createBitrixError, type BitrixError, type Failure } from './errors.js';

/**
 * Per-command outcome. A key in neither map was not executed (`halt` stopped the batch earlier).
 * Sub-command errors carry no HTTP status of their own.
 */
export type BatchOutcome = { results: Record<string, unknown>; errors: Record<string, BitrixError> };

type Scrub = (text: string) => string;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** PHP serialises an empty array as `[]` and a 0..n-1 keyed one as a list; both mean "keyed by index". */
function keyed(value: unknown): Record<string, unknown> {
  if (Array.isArray(value)) return Object.fromEntries(value.map((v, i) => [String(i), v]));
  if (isRecord(value)) return { ...value };
  return {};
}

/** Parse a response body into the `result` member or a BitrixError. */
export function parseEnvelope(method: string, status: number, body: string, scrub: Scrub): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw createBitrixError(method, { type: 'invalid-body', status, description: 'response body is not JSON' });
  }
  if (isRecord(parsed) && parsed.error !== undefined && parsed.error !== null) {
    throw createBitrixError(method, {
      type: 'envelope',
      status,
      error: String(parsed.error ?? ''),
      description: scrub(String(parsed.error_description ?? '')),
    });
  }
  if (status >= 200 && status < 300 && isRecord(parsed) && 'result' in parsed) return parsed.result;
  throw createBitrixError(method, { type: 'invalid-body', status });
}

/** A batch's `result` member (`result`, `result_error`) as outcomes by command key; `methodByKey` names the errors. */
export function batchOutcome(raw: unknown, methodByKey: ReadonlyMap<string, string>, scrub: Scrub): BatchOutcome {
  if (!isRecord(raw) || !('result' in raw)) {
    throw createBitrixError('batch', { type: 'invalid-body', status: 200, description: 'batch result has no result member' });
  }
  const errors: Record<string, BitrixError> = {};
  for (const [key, entry] of Object.entries(keyed(raw.result_error))) {
    const e = isRecord(entry) ? entry : {};
    errors[key] = createBitrixError(methodByKey.get(key) ?? 'batch', {
      type: 'envelope',
      error: String(e.error ?? ''),
      description: scrub(String(e.error_description ?? '')),
    });
  }
  return { results: keyed(raw.result), errors };
}

/** got's RequestError (and anything else thrown before a response) as a network Failure. */
export function networkFailure(err: unknown, scrub: Scrub): Failure {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      type: 'network',
      ...(typeof code === 'string' ? { code } : {}),
      name: err.name,
      message: scrub(err.message),
    };
  }
  return { type: 'network', message: scrub(String(err)) };
}
