/**
 * telephony.call.attachTranscription (docs/reference/bitrix24-telephony.md#attach-transcription) and the part of
 * voximplant.statistic.get the bridge reads (a call's TRANSCRIPT_ID). The source's checks in its order and words
 * (plain RestExceptions: HTTP 400, the configured empty code): CALL_ID set, MESSAGES a list of {SIDE User|Client,
 * START_TIME ≥ 0, STOP_TIME > 0, MESSAGE non-empty}, a finished call. Stricter than the portal, marked "(emulator
 * check)": times must be whole seconds (the docs' integer; PHP would truncate), the stop not before the start and
 * within the call's CALL_DURATION, which proves the bridge clamps them. Each attach saves a new transcript and points
 * the call's statistics row at it (TRANSCRIPT_ID), as the source does.
 */
import type { MethodHandler } from '../dispatch.js';
import { isPhpArray, phpEntries, phpFloat, phpInt, phpString, phpValues } from '../php.js';

export const attachTranscriptionMethod: MethodHandler = (params, ctx) => {
  const fail = (message: string) => ctx.fail(message);
  const callId = params.CALL_ID;
  if (typeof callId !== 'string' || callId === '') throw fail('CALL_ID should be set');
  if (!isPhpArray(params.MESSAGES)) throw fail('MESSAGES should be an array');
  const row = ctx.state.statisticByCallId(callId);
  const duration = phpInt(row?.CALL_DURATION);
  const messages = phpValues(params.MESSAGES).map((m, n) => {
    if (!isPhpArray(m)) throw fail(`MESSAGES[${n}] should be an array`);
    const fields = Object.fromEntries(phpEntries(m));
    const side = phpString(fields.SIDE);
    if (side !== 'User' && side !== 'Client') throw fail(`MESSAGES[${n}][SIDE] should be either Client or User`);
    if (phpInt(fields.START_TIME) < 0) throw fail(`MESSAGES[${n}][START_TIME] should be greater or equal to zero`);
    if (phpInt(fields.STOP_TIME) <= 0) throw fail(`MESSAGES[${n}][STOP_TIME] should be greater than zero`);
    const text = phpString(fields.MESSAGE);
    if (text.trim() === '') throw fail(`MESSAGES[${n}][MESSAGE] is empty`);
    return { n, side, start: fields.START_TIME, stop: fields.STOP_TIME, text } as const;
  });
  if (!row) throw fail(`Call ${callId} is not found. Is it finished?`);
  const lines = messages.map(({ n, side, start: rawStart, stop: rawStop, text }) => {
    const start = wholeSeconds(rawStart);
    const stop = wholeSeconds(rawStop);
    if (start === undefined || stop === undefined) throw fail(`MESSAGES[${n}]: START_TIME and STOP_TIME must be whole seconds (emulator check)`);
    if (stop < start) throw fail(`MESSAGES[${n}]: STOP_TIME ${stop} is before START_TIME ${start} (emulator check)`);
    if (stop > Math.max(1, duration)) throw fail(`MESSAGES[${n}][STOP_TIME] ${stop} is past the call's duration ${duration} s (emulator check)`);
    return { SIDE: side, START_TIME: start, STOP_TIME: stop, MESSAGE: text };
  });
  // The source stores a cost only when COST is truthy.
  const cost = phpFloat(params.COST) ? phpFloat(params.COST) : undefined;
  const id = ctx.state.attachTranscript({
    callId,
    messages: lines,
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
