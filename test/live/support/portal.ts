import type { BitrixEmulator, CallState, CommandRecord } from '../../../src/sim/bitrix-emulator.js';
import { waitFor } from '../../support/wait.js';

/** What the emulated Bitrix24 received, read the way the live tests assert it. */

export interface Telephony {
  /** When the portal executed it (ms). */
  at: number;
  method: string;
  ok: boolean;
  params: Record<string, unknown>;
  callId: string | undefined;
}

const short = (m: string) => m.replace('telephony.externalcall.', '');

/** Every telephony.externalcall.* command, with the CALL_ID it concerns (a register's from its result). */
export function telephony(portal: BitrixEmulator): Telephony[] {
  return portal.commands
    .filter((c: CommandRecord) => c.method.startsWith('telephony.externalcall.'))
    .map((c) => ({
      at: c.at,
      method: short(c.method),
      ok: c.ok,
      params: c.params as Record<string, unknown>,
      callId: c.method.endsWith('.register') ? (c.result as { CALL_ID?: string } | undefined)?.CALL_ID : (c.params['CALL_ID'] as string | undefined),
    }));
}

/** The call registered (or, for click-to-call, registered by Bitrix24 itself) for this customer number. */
export function callOf(portal: BitrixEmulator, phone: string): CallState | undefined {
  return [...portal.calls.values()].find((c) => c.phone === phone);
}

/** The commands that concern one call, in the order the portal took them. */
export function commandsOf(portal: BitrixEmulator, callId: string): Telephony[] {
  return telephony(portal).filter((c) => c.callId === callId);
}

/** The finish command of the call for `phone`, once there is one. */
export async function finished(portal: BitrixEmulator, phone: string, timeoutMs = 30_000): Promise<{ call: CallState; finish: Telephony }> {
  return waitFor(
    () => {
      const call = callOf(portal, phone);
      const finish = call && telephony(portal).find((c) => c.method === 'finish' && c.ok && c.callId === call.callId);
      return call && finish ? { call, finish } : undefined;
    },
    `Bitrix24 to receive the finish of the call from ${phone}`,
    timeoutMs,
  );
}

const users = (v: unknown): number[] => ([] as unknown[]).concat(v ?? []).map(Number);

/**
 * Who was shown and hidden the card, in order: ['show', [11, 12]], ['hide', [11]], ... Shows (or hides) of one moment
 * are merged: members ring within a millisecond, and whether the outbox sends them as one command or several depends
 * on its linger, not on the call.
 */
export function cardMoves(portal: BitrixEmulator, callId: string): Array<[string, number[]]> {
  const out: Array<{ method: string; at: number; users: number[] }> = [];
  for (const c of commandsOf(portal, callId)) {
    if (c.method !== 'show' && c.method !== 'hide') continue;
    const last = out.at(-1);
    if (last?.method === c.method && c.at - last.at < MOMENT_MS) last.users.push(...users(c.params['USER_ID']));
    else out.push({ method: c.method, at: c.at, users: users(c.params['USER_ID']) });
  }
  return out.map((m) => [m.method, [...m.users].sort((a, b) => a - b)]);
}

/** Card commands for one Asterisk moment reach the portal within this (one batch, or batches a linger apart). */
const MOMENT_MS = 150;

/** Cards shown and not hidden, other than the finishing user's: what a finish must never leave behind. */
export function cardsLeftOpen(call: CallState): number[] {
  return [...call.shownTo].filter((u) => !call.hiddenFor.has(u) && u !== call.finishedBy);
}

/** Every call registered exactly once and finished exactly once (failed attempts included). */
export function expectEachCallOnce(portal: BitrixEmulator): string[] {
  const problems: string[] = [];
  const regs = telephony(portal).filter((c) => c.method === 'register');
  const ids = regs.map((r) => r.callId);
  if (new Set(ids).size !== ids.length) problems.push(`a call registered twice: ${ids.join(', ')}`);
  for (const call of portal.calls.values()) {
    const finishes = telephony(portal).filter((c) => c.method === 'finish' && c.callId === call.callId);
    if (finishes.length !== 1) problems.push(`${call.callId} (${call.phone}) finished ${finishes.length} times`);
  }
  return problems;
}
