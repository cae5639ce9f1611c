import type { BatchCommand } from '../client.js';
import type { Planned } from './settle.js';
import type { OutboxEntry } from '../outbox-entry.js';

/**
 * A register or finish made while its agent's extension mapped to no Bitrix24 user (the user map had not loaded:
 * the portal was down at start) carries USER_ID = bitrix.defaultUserId and the extension. Right before it leaves,
 * the extension is looked up again: if it maps now, the real agent's USER_ID goes out instead (and is written with
 * the command, which the caller persists before the request leaves).
 *
 * Never for a command that may have executed already (`uncertain`): Bitrix24 recognises a repeated register only
 * with exactly the same params (register-dedup.ts), so what the first attempt carried, every attempt carries.
 */

/** A command whose user is still to be found (and may still be rewritten): it never left with a possible landing. */
export function awaitsUser(e: Pick<OutboxEntry, 'userExt' | 'uncertain'>): boolean {
  return e.userExt !== undefined && !e.uncertain;
}

export function resolveUsers(planned: readonly Planned[], commands: BatchCommand[], resolveUser: (ext: string) => number | undefined): void {
  planned.forEach(({ entry }, i) => {
    if (!awaitsUser(entry)) return;
    const userId = resolveUser(entry.userExt!);
    if (userId === undefined) return;
    entry.params = { ...entry.params, USER_ID: userId };
    delete entry.userExt;
    const command = commands[i]!;
    commands[i] = { ...command, params: { ...command.params, USER_ID: userId } };
  });
}
