import type { Call } from './call.js';
import type { Core, Turn } from './core-state.js';

/**
 * The call's one register, and whom the core names as a call's user. The register goes out just before the first
 * effect that needs the call's CALL_ID (the first card, or the finish of a call nobody's card showed).
 */

/** A user the core names through an extension: `userExt` is set when the extension had none (see effects.ts). */
export interface Attribution {
  userId: number;
  userExt?: string;
}

/** The user of `ext`, else the default user, naming the extension that had none. */
export function attribute(core: Core, turn: Turn, ext: string | undefined): Attribution {
  const id = ext === undefined ? undefined : core.users.userIdFor(ext, turn.out);
  if (id !== undefined) return { userId: id };
  return ext === undefined ? { userId: core.defaultUserId } : { userId: core.defaultUserId, userExt: ext };
}

/**
 * Emits the register once. `cardUser`: the first card's user. `talkerExt`: the agent who talked last, when the call
 * is registered at its end. Outbound calls are registered for the agent who placed them; inbound calls for the
 * first card's user, else the agent who talked if they have a user, else the first member that rang (their card
 * would have opened first, had their extension had a user), else the default user.
 */
export function ensureRegistered(core: Core, turn: Turn, call: Call, cardUser: number | undefined, talkerExt?: string): void {
  if (call.registered || call.direction === undefined) return;
  call.registered = true;
  const user = registeringUser(core, turn, call, cardUser, talkerExt);
  const known = call.phoneNumber !== '';
  turn.out.push({
    type: 'register',
    linkedid: call.linkedid,
    userId: user.userId,
    ...(user.userExt !== undefined ? { userExt: user.userExt } : {}),
    // Anonymous callers are still logged; '0' keeps Bitrix24's number check happy and creates no lead.
    phoneNumber: known ? call.phoneNumber : '0',
    callType: call.direction === 'outbound' ? 1 : 2,
    lineNumber: call.lineNumber,
    startedAt: call.startedAt,
    crmCreate: known && core.crmCreate[call.direction],
  });
}

function registeringUser(core: Core, turn: Turn, call: Call, cardUser: number | undefined, talkerExt: string | undefined): Attribution {
  if (call.direction === 'outbound') return attribute(core, turn, call.placingExt);
  if (cardUser !== undefined) return { userId: cardUser };
  const talker = attribute(core, turn, talkerExt);
  if (talkerExt !== undefined && talker.userExt === undefined) return talker;
  // Without cards shown the register never named the first member (showCards: false), so neither does this.
  const firstRung = core.showCards ? call.rungExtensions.values().next().value : undefined;
  return firstRung !== undefined ? attribute(core, turn, firstRung) : talker;
}
