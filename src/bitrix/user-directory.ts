import type { BitrixClient } from './client.js';

interface PortalUser {
  ID: string | number;
  UF_PHONE_INNER?: string | null;
  ACTIVE?: boolean;
}

/**
 * Extension -> Bitrix24 user id: Bitrix24's UF_PHONE_INNER, refreshed periodically, with the config's
 * users.extensions on top (they win: UF_PHONE_INNER is limited to 1-4 digits,
 * docs/reference/bitrix24-telephony.md#extension-limits).
 */
export class ExtensionDirectory {
  private fromPortal = new Map<string, number>();

  constructor(private configMap: Record<string, number>) {}

  /** users.extensions of the config (they win over UF_PHONE_INNER). */
  get overrides(): Readonly<Record<string, number>> {
    return this.configMap;
  }

  userIdFor(ext: string): number | undefined {
    return this.configMap[ext] ?? this.fromPortal.get(ext);
  }

  /** Bitrix24 user -> extension (click-to-call rings the clicking user's phone); the config's map wins. */
  extensionFor(userId: number): string | undefined {
    for (const [ext, id] of Object.entries(this.configMap)) if (id === userId) return ext;
    for (const [ext, id] of this.fromPortal) if (id === userId) return ext;
    return undefined;
  }

  /** The whole map, the config's entries over the portal's: what the core gets as its `userMap` input. */
  extensions(): Record<string, number> {
    return { ...Object.fromEntries(this.fromPortal), ...this.overrides };
  }

  setOverrides(overrides: Record<string, number>): void {
    this.configMap = overrides;
  }

  get size(): number {
    return new Set([...Object.keys(this.configMap), ...this.fromPortal.keys()]).size;
  }

  /** The portal's map, as loaded (or restored from the state store). */
  setPortalMap(map: ReadonlyMap<string, number>): void {
    this.fromPortal = new Map(map);
  }

  /** Pages through user.get (50 per page) and returns the portal's map; a failed load changes nothing. */
  async load(client: Pick<BitrixClient, 'call'>): Promise<Map<string, number>> {
    const next = new Map<string, number>();
    for (let start = 0, page = 0; page < 200; page++) {
      const users = await client.call<PortalUser[]>('user.get', { FILTER: { ACTIVE: true }, start });
      if (!Array.isArray(users) || users.length === 0) break;
      for (const u of users) {
        const ext = typeof u.UF_PHONE_INNER === 'string' ? u.UF_PHONE_INNER.replace(/\D/g, '') : '';
        const id = Number(u.ID);
        if (ext && Number.isInteger(id) && id > 0) next.set(ext, id);
      }
      if (users.length < 50) break;
      start += 50;
    }
    return next;
  }
}
