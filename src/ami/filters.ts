/**
 * AMI event filters installed on login (Action: Filter, Operation: Add) so Asterisk sends only what we use.
 * Include filters are OR'ed regexes over the event text. VarSet is the loudest event class: only the
 * variables we read get through, by their own filter.
 */
export const USED_EVENTS = [
  'FullyBooted',
  'Shutdown',
  'Reload',
  'Newchannel',
  'Newstate',
  'Newexten',
  'NewCallerid',
  'NewConnectedLine',
  'Hold',
  'Unhold',
  'Hangup',
  'DialBegin',
  'DialEnd',
  'BridgeEnter',
  'BridgeLeave',
  'BlindTransfer',
  'AttendedTransfer',
  'AgentCalled',
  'AgentConnect',
  'AgentComplete',
  'AgentRingNoAnswer',
  'AgentDump',
  'QueueCallerJoin',
  'QueueCallerLeave',
  'QueueCallerAbandon',
  'QueueMemberPause',
  'QueueMemberPenalty',
  'QueueMemberAdded',
  'QueueMemberRemoved',
  'QueueMemberStatus',
  'OriginateResponse',
  'MixMonitorStart',
] as const;

/**
 * POSIX extended regexes (Asterisk uses regcomp): `\r` is no escape there, so a non-letter after the name
 * keeps `Hangup` from also matching `HangupRequest`.
 */
export function eventFilters(variables: readonly string[]): string[] {
  const filters = [`Event: (${USED_EVENTS.join('|')})[^A-Za-z]`];
  if (variables.length > 0) filters.push(`Variable: (${variables.join('|')})[^A-Za-z_]`);
  return filters;
}
