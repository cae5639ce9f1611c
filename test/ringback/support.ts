import type { AmiConnection } from '../../src/ami/connection.js';
import type { AmiMessage } from '../../src/ami/types.js';
import { ringBackConfig, type RingBackConfig } from '../../src/config/ringback.js';
import { normalizeRingBack } from '../../src/ringback/normalize.js';
import { RingBackPolicy } from '../../src/ringback/policy.js';
import type { RingBackService } from '../../src/ringback/service.js';
import type { ActionOp, ActionOutcome, RingBackEffect, RingBackInput } from '../../src/ringback/types.js';
import type { SimQueueState } from '../../src/sim/ami-simulator.js';
import { traceMessages } from '../support/traces.js';

/** Helpers for the ring-back tests: trace inputs, a virtual-time driver for the pure policy, simulator state. */

export const OUR_REASON = 'asterisk-b24-bridge:no-answer';
export const IFACE_201 = 'Local/201@agents/n';
export const IFACE_202 = 'Local/202@agents/n';

/** Every ring-back input of a recorded trace, stamped with the AMI Timestamp. */
export function traceInputs(name: string): RingBackInput[] {
  return traceMessages(name).flatMap((m) => normalizeRingBack(m, 0) ?? []);
}

/** The first message of a trace matching `pred` (to replay a real event through the simulator). */
export function traceEvent(name: string, pred: (m: AmiMessage) => boolean): AmiMessage {
  const hit = traceMessages(name).find(pred);
  if (hit === undefined) throw new Error(`no such event in ${name}`);
  return hit;
}

export interface TimedEffect {
  /** Seconds since the first input. */
  t: number;
  at: number;
  effect: RingBackEffect;
}

type ActionEffect = Extract<RingBackEffect, { type: 'pause' | 'unpause' | 'setPenalty' | 'handBack' }>;

export type Answer = (effect: ActionEffect) => ActionOutcome | undefined;

/** The effects that are AMI actions. */
export const isAction = (e: RingBackEffect): e is ActionEffect => e.type === 'pause' || e.type === 'unpause' || e.type === 'setPenalty' || e.type === 'handBack';

function opOf(e: ActionEffect): ActionOp {
  if (e.type === 'setPenalty') return e.purpose === 'raise' ? 'raisePenalty' : 'restorePenalty';
  return e.type;
}

/**
 * Runs inputs through a policy in virtual time: timers fire when the next input is later than them, and
 * (with `settle`) after the last input; every action is answered at once by `answer` (default: Success).
 */
export function drive(policy: RingBackPolicy, inputs: RingBackInput[], opts: { answer?: Answer; settle?: boolean } = {}): TimedEffect[] {
  const out: TimedEffect[] = [];
  const timers = new Map<string, number>();
  const t0 = inputs[0]?.at ?? 0;
  const answer: Answer = opts.answer ?? (() => 'ok');
  const step = (first: RingBackInput): void => {
    const pending = [first];
    for (let i = pending.shift(); i !== undefined; i = pending.shift()) {
      for (const effect of policy.handle(i)) {
        out.push({ t: Math.round(i.at - t0) / 1000, at: i.at, effect });
        if (effect.type === 'scheduleTimer') timers.set(effect.id, effect.at);
        else if (effect.type === 'cancelTimer') timers.delete(effect.id);
        else if (isAction(effect)) {
          const outcome = answer(effect);
          if (outcome !== undefined) pending.push({ kind: 'actionResult', at: i.at, op: opOf(effect), queue: effect.queue, iface: effect.iface, outcome });
        }
      }
    }
  };
  const fireUntil = (limit: number): void => {
    for (let guard = 0; guard < 10_000; guard++) {
      let next: [string, number] | undefined;
      for (const entry of timers) if (entry[1] <= limit && (next === undefined || entry[1] < next[1])) next = entry;
      if (next === undefined) return;
      timers.delete(next[0]);
      step({ kind: 'timer', at: next[1], id: next[0] });
    }
  };
  for (const input of inputs) {
    fireUntil(input.at);
    step(input);
  }
  if (opts.settle !== false) fireUntil(Infinity);
  return out;
}

export function policyFor(overrides: Parameters<typeof ringBackConfig>[0] = {}): { policy: RingBackPolicy; config: RingBackConfig } {
  const config = ringBackConfig(overrides);
  return { policy: new RingBackPolicy(config), config };
}

export const effectsOf = <T extends RingBackEffect['type']>(timed: TimedEffect[], type: T) =>
  timed.filter((e) => e.effect.type === type) as (TimedEffect & { effect: Extract<RingBackEffect, { type: T }> })[];

const withoutActionId = (m: AmiMessage): AmiMessage => {
  const { ActionID: _drop, ...rest } = m;
  return rest;
};

/** The QueueStatus list items of one recorded action, as the simulator's state. */
function recordedList(trace: string, actionId: string): AmiMessage[] {
  return traceMessages(trace)
    .filter((m) => m['Event'] !== undefined && m['ActionID'] === actionId)
    .map(withoutActionId);
}

/**
 * What Asterisk had, as recorded: `support` (ringall, 101-103) from queue_actions' first QueueStatus, and
 * `sales` (leastrecent, 201-203) from the QueueStatus in sales_leastrecent_ringback.
 */
export function recordedQueueState(): SimQueueState {
  const items = [...recordedList('queue_actions', 'queue_actions-3'), ...recordedList('sales_leastrecent_ringback', 'sales_leastrecent_ringback-20')];
  return {
    params: items.filter((m) => m['Event'] === 'QueueParams'),
    members: items.filter((m) => m['Event'] === 'QueueMember'),
  };
}

/**
 * Runs a ring-back service on an AMI connection as the daemon does: the service started first, then its AMI events,
 * the login and a reconcile. Returns what undoes it (the service stopped, the connection closed).
 */
export async function runRingBack(ami: AmiConnection, service: RingBackService): Promise<() => Promise<void>> {
  ami.on('event', (m) => service.handleAmiEvent(m));
  await service.start();
  await ami.connect();
  await service.reconcile();
  return async () => {
    service.stop();
    await ami.close();
  };
}
