import type { BitrixEmulator } from '../../src/sim/bitrix-emulator.js';

/**
 * Reading what the Bitrix24 emulator saw: which HTTP request carried the show of which call (by Linkedid, which the
 * bridge sends as EXTERNAL_CALL_ID), and which cards were really shown (executed commands).
 */

export interface ShowReceipt {
  linkedid: string;
  userIds: number[];
  /** Emulator clock when the HTTP request arrived (before its body was read). */
  at: number;
}

const SHOW = 'telephony.externalcall.show';
const REGISTER = 'telephony.externalcall.register';
const REF = /^\$result\[(\w+)\]\[CALL_ID\]$/;

function splitCommand(text: string): { method: string; query: URLSearchParams } {
  const q = text.indexOf('?');
  return { method: (q < 0 ? text : text.slice(0, q)).toLowerCase(), query: new URLSearchParams(q < 0 ? '' : text.slice(q + 1)) };
}

function userIdsOf(query: URLSearchParams): number[] {
  const ids: number[] = [];
  for (const [k, v] of query) if (k === 'USER_ID' || k.startsWith('USER_ID[')) ids.push(Number(v));
  return ids;
}

/** Shows carried by the answered batch requests from index `from` on; returns them and the next index to read. */
export function showReceipts(portal: BitrixEmulator, from: number): { shows: ShowReceipt[]; next: number } {
  const shows: ShowReceipt[] = [];
  let i = from;
  for (; i < portal.requests.length; i++) {
    const r = portal.requests[i]!;
    if (r.status === 0) break; // still being read: look again later
    if (r.restMethod !== 'batch' || r.status !== 200) continue;
    const cmd = (r.params as Record<string, unknown>)['cmd'];
    if (cmd === null || typeof cmd !== 'object') continue;
    const registered = new Map<string, string>();
    const parsed = Object.entries(cmd as Record<string, unknown>)
      .filter((e): e is [string, string] => typeof e[1] === 'string')
      .map(([key, text]) => ({ key, ...splitCommand(text) }));
    for (const c of parsed) if (c.method === REGISTER) registered.set(c.key, c.query.get('EXTERNAL_CALL_ID') ?? '');
    for (const c of parsed) {
      if (c.method !== SHOW) continue;
      const callId = c.query.get('CALL_ID') ?? '';
      const ref = REF.exec(callId);
      const linkedid = ref ? registered.get(ref[1]!) : (portal.calls.get(callId)?.externalCallId ?? undefined);
      if (linkedid) shows.push({ linkedid, userIds: userIdsOf(c.query), at: r.at });
    }
  }
  return { shows, next: i };
}

/** Cards really shown (show commands executed without error), as "linkedid/user" -> emulator time of the first. */
export function shownCards(portal: BitrixEmulator, into = new Map<string, number>(), from = 0): { cards: Map<string, number>; next: number } {
  let i = from;
  for (; i < portal.commands.length; i++) {
    const c = portal.commands[i]!;
    if (c.method !== SHOW || !c.ok) continue;
    const linkedid = portal.calls.get(String(c.params['CALL_ID']))?.externalCallId;
    if (!linkedid) continue;
    const raw = c.params['USER_ID'];
    const users = Array.isArray(raw) ? raw : typeof raw === 'object' && raw !== null ? Object.values(raw) : [raw];
    for (const u of users) {
      const key = `${linkedid}/${String(u)}`;
      if (!into.has(key)) into.set(key, c.at);
    }
  }
  return { cards: into, next: i };
}
