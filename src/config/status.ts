import { z } from 'zod';
import { parseAllowEntry } from '../http/auth.js';

/**
 * The live view's keys, merged into the `http:` section (src/config/schema.ts). Loopback may always look; these
 * say who else may. The token may also come from B24BRIDGE_STATUS_TOKEN (src/config/load.ts).
 */
export const statusKeys = {
  /** Addresses or CIDR prefixes that may look at /status without the token (read only: actions need the token). */
  statusAllow: z.array(z.string().refine((s) => parseAllowEntry(s) !== undefined, 'must be an IP address or a CIDR prefix')).default([]),
  /** Lets anyone who has it look from anywhere, and is what the page's actions (release, retry) require. */
  statusToken: z
    .string()
    .min(16, 'must be at least 16 characters (e.g. `openssl rand -hex 16`)')
    .max(256)
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
    .optional(),
};
