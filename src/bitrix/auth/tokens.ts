/**
 * A local application's OAuth state: the token pair Bitrix24 rotates on every refresh, where to call, and what
 * identifies the installation (member_id, application_token) so events can be checked. Secrets: never logged,
 * never shown; kept only in the state store (SQLite, mode 0600).
 */
export interface AppTokens {
  accessToken: string;
  refreshToken: string;
  /** When the access token expires (ms since epoch, from expires_in at the time it was received). */
  expiresAt: number;
  /** When this pair was received: the refresh token lives 180 days from then if it is not used. */
  issuedAt: number;
  /** `https://portal/rest/`: REST methods are called here. */
  clientEndpoint: string;
  /** `https://oauth.bitrix.info/rest/`: the install's OAuth server, unless bitrix.app.oauthUrl says otherwise. */
  serverEndpoint?: string;
  domain: string;
  memberId: string;
  /** From ONAPPINSTALL only: what later events carry in auth[application_token]. */
  applicationToken?: string;
  scope?: string;
  /** Grows by one with every pair written: a reader tells a newer pair from the one it holds. */
  generation: number;
}

/** Where the pair lives. `save` is atomic: a reader sees the old pair or the new one, never half of each. */
export interface TokenStore {
  load(): AppTokens | undefined;
  save(tokens: AppTokens): void;
}

/** The refresh token lives 180 days unused (Bitrix24 REST docs, settings/oauth/index.md). */
export const REFRESH_TOKEN_LIFETIME_MS = 180 * 24 * 3600 * 1000;
/** Flagged in /healthz and check this long before it would expire. */
export const REFRESH_TOKEN_WARN_MS = 30 * 24 * 3600 * 1000;
