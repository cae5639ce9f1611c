/**
 * batch (docs/reference/bitrix24-rest.md#batch; source rest/classes/general/rest_provider.php methodsBatch and
 * rest_util.php ParseBatchQuery): each cmd is `method?query`, the query is parse_str-decoded first and
 * `$result[key][…]` references are substituted in the decoded values afterwards.
 */
import { batchTimeInfo, systemErrors } from '../envelope.js';
import type { MethodHandler } from '../dispatch.js';
import { parseStr } from '../php-form.js';
import { isPhpArray, isset, phpAssoc, phpBool, phpEntries, phpString, setOwn, upperKeys } from '../php.js';

const MAX_COMMANDS = 50;
const NOT_IN_BATCH = new Set(['batch', 'upload', 'download']);

type Bucket = 'result' | 'next' | 'total' | 'time' | 'error';
type Results = Record<Bucket, Array<[string, unknown]>>;

export const batchMethod: MethodHandler = async (params, ctx) => {
  const query = upperKeys(params);
  // (bool) cast: the string "false" halts too.
  const halt = phpBool(query.HALT);
  const results: Results = { result: [], next: [], total: [], time: [], error: [] };

  let count = 0;
  for (const [key, command] of phpEntries(query.CMD)) {
    const add = (bucket: Bucket, value: unknown) => results[bucket].push([key, value]);
    let failed = false;
    if (count++ >= MAX_COMMANDS) {
      // Commands past the 50th are reported, not executed.
      add('error', systemErrors.batchLengthExceeded().body());
      failed = true;
    } else {
      const { method, query: subQuery } = splitCommand(phpString(command));
      const subParams = substitute(parseStr(subQuery), results) as Record<string, unknown>;
      if (NOT_IN_BATCH.has(method)) {
        add('error', systemErrors.batchMethodNotAllowed().body());
        failed = true;
      } else {
        const outcome = await ctx.callSub(method, subParams);
        if (outcome.ok) {
          add('result', outcome.reply.result);
          if (outcome.reply.next !== undefined) add('next', outcome.reply.next);
          if (outcome.reply.total !== undefined) add('total', outcome.reply.total);
          add('time', batchTimeInfo(outcome.startMs, outcome.finishMs, ctx.offsetMinutes));
        } else {
          add('error', outcome.error.body());
          failed = true;
        }
      }
    }
    if (failed && halt) break;
  }

  return {
    result: {
      result: phpAssoc(results.result),
      result_error: phpAssoc(results.error),
      result_total: phpAssoc(results.total),
      result_next: phpAssoc(results.next),
      result_time: phpAssoc(results.time),
    },
  };
};

/** `parse_url`: the path is the method (lowercased), the query is what follows `?`. */
function splitCommand(command: string): { method: string; query: string } {
  const withoutFragment = command.split('#')[0] ?? '';
  const q = withoutFragment.indexOf('?');
  const path = q === -1 ? withoutFragment : withoutFragment.slice(0, q);
  return { method: path.toLowerCase(), query: q === -1 ? '' : withoutFragment.slice(q + 1) };
}

/** Walks decoded params and resolves `$result[…]`, `$next[…]`, `$total[…]`, `$time[…]`, `$error[…]`. */
function substitute(value: unknown, results: Results): unknown {
  if (isPhpArray(value)) {
    const out: Record<string, unknown> | unknown[] = Array.isArray(value) ? [] : {};
    for (const [k, v] of phpEntries(value)) {
      if (Array.isArray(out)) out.push(substitute(v, results));
      else setOwn(out, k, substitute(v, results));
    }
    return out;
  }
  return typeof value === 'string' ? substituteString(value, results) : value;
}

function substituteString(value: string, results: Results): unknown {
  const pattern = /\$(result|next|total|time|error)([^\s]*)/gi;
  let out: unknown = value;
  for (const match of value.matchAll(pattern)) {
    const path = [...(match[2] ?? '').matchAll(/\[([^\]]+)\]/g)].map((m) => m[1] ?? '');
    if (path.length === 0) continue;
    // The lookup is by the matched name, so only the lowercase spelling resolves.
    const bucket = match[1] as string;
    let ref: unknown = bucket in results ? phpAssoc(results[bucket as Bucket]) : null;
    for (const key of path) {
      const next = childOf(ref, key);
      if (!isset(next)) break; // a missing key keeps the deepest value found
      ref = next;
    }
    // A whole-value reference keeps arrays; otherwise it is string interpolation.
    if (match[0] === value) return ref;
    out = phpString(out).split(match[0]).join(phpString(ref));
  }
  return out;
}

/** `$r[$key]` on a PHP array; strings and scalars have no keys here. */
function childOf(ref: unknown, key: string): unknown {
  if (Array.isArray(ref)) return /^(0|[1-9]\d*)$/.test(key) ? ref[Number(key)] : undefined;
  if (isPhpArray(ref)) return Object.prototype.hasOwnProperty.call(ref, key) ? (ref as Record<string, unknown>)[key] : undefined;
  return undefined;
}
