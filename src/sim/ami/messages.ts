import type { AmiMessage } from '../../ami/types.js';

/** One message as Asterisk writes it: `Key: Value` lines (a repeated key once per value), then a blank line. */
export function formatAmiMessage(msg: AmiMessage): string {
  let s = '';
  for (const [k, v] of Object.entries(msg)) {
    for (const item of typeof v === 'string' ? [v] : v) s += `${k}: ${item}\r\n`;
  }
  return `${s}\r\n`;
}

/** Case-insensitive header lookup, as Asterisk reads action headers. */
export function header(msg: AmiMessage, key: string): string | undefined {
  const lower = key.toLowerCase();
  for (const k of Object.keys(msg)) {
    if (k.toLowerCase() === lower) {
      const v = msg[k];
      return typeof v === 'string' ? v : v?.[0];
    }
  }
  return undefined;
}
