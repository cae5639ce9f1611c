/**
 * Bitrix24 user -> the extension the dialplan rings. The config's users.extensions win, as they do in the forward
 * direction (they exist for extensions UF_PHONE_INNER cannot hold); then the responsible's UF_PHONE_INNER that
 * searchCrmEntities returns with the match (ASSIGNED_BY.USER_PHONE_INNER: fresh from the portal), unless the user
 * map gives that extension to somebody else; then the directory's own reverse map (refreshed periodically).
 */

export interface ExtensionResolverOptions {
  /** users.extensions (extension -> user id). */
  overrides: () => Readonly<Record<string, number>>;
  /** The live directory (extension -> user id), to refuse an inner number mapped to another user. */
  userIdFor?: (ext: string) => number | undefined;
  /** The live directory's reverse map (user id -> extension). */
  extensionFor?: (userId: number) => string | undefined;
}

export class ExtensionResolver {
  constructor(private readonly opts: ExtensionResolverOptions) {}

  extensionOf(userId: number, portalInner?: string): string | undefined {
    // Sorted: a user with two configured extensions always gets the same one.
    const configured = Object.entries(this.opts.overrides())
      .filter(([, id]) => id === userId)
      .map(([ext]) => ext)
      .sort();
    if (configured[0] !== undefined) return configured[0];
    if (portalInner !== undefined && /^\d{1,32}$/.test(portalInner)) {
      const owner = this.opts.userIdFor?.(portalInner);
      if (owner === undefined || owner === userId) return portalInner;
    }
    return this.opts.extensionFor?.(userId);
  }
}
