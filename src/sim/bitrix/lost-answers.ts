/**
 * "Lost answers": the portal executes the request completely (register creates the call, a batch runs all its
 * commands) and then the connection is reset instead of answering — what a client sees when a proxy or the
 * network drops the response. Chosen by method, by a batch's sub-methods, and optionally at random with a seed.
 */
import { phpString, phpValues, upperKeys, type Params } from './php.js';
import { mulberry32 } from '../prng.js';

export interface LoseAnswerOptions {
  /** Lowercased REST methods whose answers may be lost, e.g. 'batch', 'telephony.externalcall.register'. */
  methods?: string[];
  /** A batch qualifies when one of its commands calls one of these methods. */
  batchContaining?: string[];
  /** Each qualifying request loses its answer with this probability. Default 1. */
  probability?: number;
  /** Seed of the random choice, so a failing run can be replayed. Default 1. */
  seed?: number;
}

interface Rule {
  remaining: number;
  methods: string[] | null;
  batchContaining: string[] | null;
  probability: number;
  random: () => number;
}

export class LostAnswers {
  private rules: Rule[] = [];
  /** How many answers were lost so far. */
  lost = 0;

  /** Up to `n` qualifying requests (Infinity: until cleared) lose their answer. */
  add(n: number, options: LoseAnswerOptions = {}): void {
    const lower = (list: string[] | undefined) => (list ? list.map((m) => m.toLowerCase()) : null);
    this.rules.push({
      remaining: n,
      methods: lower(options.methods),
      batchContaining: lower(options.batchContaining),
      probability: options.probability ?? 1,
      random: mulberry32(options.seed ?? 1),
    });
  }

  /** Called after execution: true when this answer must be dropped (consumes one from the first rule that fires). */
  take(method: string, params: Params): boolean {
    for (const rule of this.rules) {
      if (rule.remaining <= 0 || !qualifies(rule, method, params)) continue;
      if (rule.random() >= rule.probability) continue;
      rule.remaining--;
      this.lost++;
      return true;
    }
    return false;
  }

  clear(): void {
    this.rules = [];
  }
}

function qualifies(rule: Rule, method: string, params: Params): boolean {
  if (rule.methods === null && rule.batchContaining === null) return true;
  if (rule.methods?.includes(method)) return true;
  if (rule.batchContaining && method === 'batch') {
    return batchMethods(params).some((m) => rule.batchContaining!.includes(m));
  }
  return false;
}

/** The lowercased method of every command of a batch (`cmd[key]=method?query`). */
export function batchMethods(params: Params): string[] {
  return phpValues(upperKeys(params).CMD).map((command) => {
    const text = phpString(command).split('#')[0] ?? '';
    const q = text.indexOf('?');
    return (q === -1 ? text : text.slice(0, q)).toLowerCase();
  });
}
