/**
 * telephony.call.attachTranscription (docs/reference/bitrix24-telephony.md#attach-transcription) and the part of
 * voximplant.statistic.get the bridge reads (a call's TRANSCRIPT_ID). Strict: a known and finished call, MESSAGES a
 * non-empty list of {SIDE User|Client, START_TIME ≥ 0, STOP_TIME ≥ 1, MESSAGE non-empty}, each message's times whole
 * seconds within the call's CALL_DURATION (this last rule is the emulator's own: it proves the bridge clamps them).
 * Each attach saves a new transcript and points the call's statistics row at it (TRANSCRIPT_ID).
 */
import { RestError } from '../envelope.js';
import type { MethodHandler } from '../dispatch.js';
import { isPhpArray, phpEntries, phpFloat, phpInt, phpString, phpValues } from '../php.js';

const fail = (message: string) => new RestError(400, 'ERROR_CORE', message);

export const attachTranscriptionMethod: MethodHandler = (params, ctx) => {
  const callId = params.CALL_ID;
  if (typeof callId !== 'string' || callId === '') throw fail('CALL_ID should be set');
  if (!isPhpArray(params.MESSAGES)) throw fail('MESSAGES should be an array');
  const row = ctx.state.statisticByCallId(callId);
  if (!row) throw fail(`Call ${callId} is not found. Is it finished?`);
  const duration = phpInt(row.CALL_DURATION);
  const messages = phpValues(params.MESSAGES).map((m, n) => {
    if (!isPhpArray(m)) throw fail(`MESSAGES[${n}] should be an array`);
    const fields = Object.fromEntries(phpEntries(m));
    const side = phpString(fields.SIDE);
    if (side !== 'User' && side !== 'Client') throw fail(`MESSAGES[${n}][SIDE] should be either Client or User`);
    const start = wholeSeconds(fields.START_TIME);
    if (start === undefined || start < 0) throw fail(`MESSAGES[${n}][START_TIME] should be greater or equal to zero`);
    const stop = wholeSeconds(fields.STOP_TIME);
    if (stop === undefined || stop <= 0) throw fail(`MESSAGES[${n}][STOP_TIME] should be greater than zero`);
    const text = phpString(fields.MESSAGE);
    if (text.trim() === '') throw fail(`MESSAGES[${n}][MESSAGE] is empty`);
    // The emulator's own strictness (not a documented portal error).
    if (stop < start) throw fail(`MESSAGES[${n}]: STOP_TIME ${stop} is before START_TIME ${start} (emulator check)`);
    if (stop > Math.max(1, duration)) throw fail(`MESSAGES[${n}][STOP_TIME] ${stop} is past the call's duration ${duration} s (emulator check)`);
    return { SIDE: side, START_TIME: start, STOP_TIME: stop, MESSAGE: text } as const;
  });
  const cost = params.COST === undefined ? undefined : phpFloat(params.COST);
  const id = ctx.state.attachTranscript({
    callId,
    messages,
    ...(cost !== undefined ? { cost, costCurrency: phpString(params.COST_CURRENCY) } : {}),
  });
  row.TRANSCRIPT_ID = id;
  row.TRANSCRIPT_PENDING = 'N';
  return { result: { TRANSCRIPT_ID: id } };
};

/** The statistics rows whose CALL_ID equals FILTER.CALL_ID (the only filter the bridge uses); all rows without one. */
export const statisticGetMethod: MethodHandler = (params, ctx) => {
  const filter = isPhpArray(params.FILTER) ? Object.fromEntries(phpEntries(params.FILTER)) : {};
  const callId = filter.CALL_ID;
  const rows = ctx.state.statistics.filter((r) => callId === undefined || r.CALL_ID === phpString(callId));
  const result = rows.map((r) => ({ ...r, TRANSCRIPT_ID: r.TRANSCRIPT_ID ?? null, TRANSCRIPT_PENDING: r.TRANSCRIPT_PENDING ?? 'N' }));
  return { result, total: result.length };
};

/** An integer, or a string of one (form-encoded requests carry only strings); anything else is refused. */
function wholeSeconds(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) return Number(value);
  return undefined;
}
