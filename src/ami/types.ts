/**
 * One AMI message as it came off the wire: `Key: Value` lines, keys kept as Asterisk spelled them.
 * A key that repeats (ChanVariable, Variable, Output) holds every value, in order, as an array.
 */
export type AmiMessage = Record<string, string | string[]>;

/** First value of a header, or undefined. Asterisk spells its keys consistently, so lookups are exact. */
export function field(msg: AmiMessage, key: string): string | undefined {
  const v = msg[key];
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : v[0];
}

/** Every value of a header (repeated keys such as ChanVariable). */
export function fields(msg: AmiMessage, key: string): string[] {
  const v = msg[key];
  if (v === undefined) return [];
  return typeof v === 'string' ? [v] : v;
}

/** What the framer yields for each complete unit of the byte stream. */
export type FramerOutput =
  | { type: 'banner'; text: string }
  | { type: 'message'; message: AmiMessage }
  | { type: 'error'; code: 'LINE_TOO_LONG' | 'MESSAGE_TOO_LARGE' | 'TOO_MANY_HEADERS' | 'MALFORMED_LINE'; detail: string };
