/**
 * The authorization server's token book for the one local application: access/refresh pairs, authorization codes
 * and the test controls (revoke, expire). Time is the emulator clock; nothing here speaks HTTP.
 */
import { randomBytes } from 'node:crypto';

/** What a grant hands out (`expires` is unix seconds, as on the wire). */
export interface IssuedPair {
  accessToken: string;
  refreshToken: string;
  expires: number;
  expiresIn: number;
  userId: number;
  /** 1, 2, 3…: the order in which access tokens were issued. */
  serial: number;
}

export interface AccessRow {
  token: string;
  serial: number;
  userId: number;
  expiresAt: number;
  /** Set when the refresh token issued with it was used: a newer pair exists. */
  supersededAt: number | null;
  /** Dead although not expired: refreshed away while `oldAccessValidAfterRefresh` is false. */
  invalidated: boolean;
  /** An access token handed to an event handler comes without a refresh token. */
  kind: 'pair' | 'event';
}

interface RefreshRow {
  token: string;
  accessSerial: number;
  userId: number;
  expiresAt: number;
  usedAt: number | null;
  revoked: boolean;
}

interface CodeRow {
  userId: number;
  expiresAt: number;
  used: boolean;
}

export type GrantError = 'invalid_grant' | 'expired_token';

export interface TokenLifetimes {
  accessMs: number;
  refreshMs: number;
  /** The 2020 docs say the old access token dies with the refresh; see the emulator header for the default. */
  oldAccessValidAfterRefresh: boolean;
}

/** The docs: "The lifetime of the authorization code `code` is 30 seconds." */
export const CODE_LIFETIME_MS = 30_000;

/** Real tokens are 70 hex characters (captured refresh answers); only the length and alphabet matter here. */
function newToken(): string {
  return randomBytes(35).toString('hex');
}

export class TokenStore {
  private readonly access = new Map<string, AccessRow>();
  private readonly refresh = new Map<string, RefreshRow>();
  private readonly codes = new Map<string, CodeRow>();
  private serial = 0;
  /** Successful grants only; failed attempts are in the OAuth server's request log. */
  refreshes = 0;
  codeExchanges = 0;

  constructor(
    private readonly clock: () => number,
    private readonly lifetimes: TokenLifetimes,
  ) {}

  issuePair(userId: number): IssuedPair {
    const row = this.issueAccess(userId, 'pair');
    const refreshToken = newToken();
    this.refresh.set(refreshToken, {
      token: refreshToken,
      accessSerial: row.serial,
      userId,
      expiresAt: this.clock() + this.lifetimes.refreshMs,
      usedAt: null,
      revoked: false,
    });
    return {
      accessToken: row.token,
      refreshToken,
      expires: Math.floor(row.expiresAt / 1000),
      expiresIn: Math.round(this.lifetimes.accessMs / 1000),
      userId,
      serial: row.serial,
    };
  }

  /** An access token alone, as the event queue passes to online handlers (sendRefreshToken is false). */
  issueAccess(userId: number, kind: AccessRow['kind'] = 'event'): AccessRow {
    const row: AccessRow = {
      token: newToken(),
      serial: ++this.serial,
      userId,
      expiresAt: this.clock() + this.lifetimes.accessMs,
      supersededAt: null,
      invalidated: false,
      kind,
    };
    this.access.set(row.token, row);
    return row;
  }

  /** grant_type=refresh_token: every use rotates both tokens; a used, revoked or old refresh token is dead. */
  useRefreshToken(token: string): IssuedPair | GrantError {
    const row = this.refresh.get(token);
    const now = this.clock();
    if (!row || row.usedAt !== null || row.revoked || now >= row.expiresAt) return 'invalid_grant';
    row.usedAt = now;
    for (const old of this.access.values()) {
      if (old.serial !== row.accessSerial) continue;
      old.supersededAt = now;
      if (!this.lifetimes.oldAccessValidAfterRefresh) old.invalidated = true;
    }
    this.refreshes++;
    return this.issuePair(row.userId);
  }

  /** What an admin gets by opening the authorize page: single use, 30 s. */
  mintCode(userId: number): string {
    const code = newToken();
    this.codes.set(code, { userId, expiresAt: this.clock() + CODE_LIFETIME_MS, used: false });
    return code;
  }

  /** grant_type=authorization_code. */
  useCode(code: string): IssuedPair | GrantError {
    const row = this.codes.get(code);
    if (!row || row.used) return 'invalid_grant';
    row.used = true;
    if (this.clock() >= row.expiresAt) return 'expired_token';
    this.codeExchanges++;
    return this.issuePair(row.userId);
  }

  /** The access token's row; undefined when it was never issued here. */
  findAccess(token: string): AccessRow | undefined {
    return this.access.get(token);
  }

  /** Source rest/lib/oauth/auth.php: `$tokenInfo['expires'] <= time()`. */
  isExpired(row: AccessRow): boolean {
    return row.expiresAt <= this.clock();
  }

  /** The serial of an access token, so tests can say "request N used the first token". */
  serialOf(accessToken: string): number | undefined {
    return this.access.get(accessToken)?.serial;
  }

  /** Test control: every refresh token issued so far answers invalid_grant. */
  revokeRefreshTokens(): void {
    for (const row of this.refresh.values()) row.revoked = true;
  }

  /** Test control: every access token issued so far has expired as of now. */
  expireAccessTokens(): void {
    const now = this.clock();
    for (const row of this.access.values()) row.expiresAt = Math.min(row.expiresAt, now);
  }

  /** The app was deleted and installed again: nothing issued before is known any more. */
  clear(): void {
    this.access.clear();
    this.refresh.clear();
    this.codes.clear();
  }

  /** Emulator reset: as clear, and the counters start again. */
  reset(): void {
    this.clear();
    this.serial = 0;
    this.refreshes = 0;
    this.codeExchanges = 0;
  }
}
