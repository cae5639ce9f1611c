import type { BitrixError } from '../errors.js';

/**
 * How a REST request to Bitrix24 is authorised, the one thing that differs between an inbound webhook and a local
 * application (OAuth). The client asks for credentials before each request and tells the auth when the portal said
 * the access token expired; everything else (envelopes, errors, the rate limiter) is the same in both modes.
 */

export interface RestCredentials {
  /** Methods are appended to this: `https://portal/rest/1/code/` (webhook) or `https://portal/rest/` (app). */
  base: string;
  /** The OAuth access token sent as the `auth` parameter; absent for a webhook (the code is in the URL). */
  accessToken?: string;
}

export interface RestAuth {
  readonly mode: 'webhook' | 'app';
  /** Rejects with AuthRequiredError when there is no usable token (nothing is sent then). */
  credentials(): Promise<RestCredentials>;
  /**
   * The portal answered expired_token (or invalid_token) for `token`: get a new one. Concurrent calls for the same
   * token share one refresh. Rejects with AuthRequiredError when the tokens are dead (an admin must act).
   */
  renew(token: string): Promise<void>;
  /** Every secret text this auth holds now, to blank out of error messages and log lines. */
  secrets(): string[];
  /** What a failed request means under this auth, where it differs (an application waits where a webhook parks). */
  refusal?(error: BitrixError): BitrixError;
}

/**
 * No usable OAuth token: never installed, refresh token expired or revoked, application deleted. Retryable (the
 * outbox keeps every command until an admin re-authorises), raised locally without a request to the portal.
 */
export class AuthRequiredError extends Error {
  constructor(
    /** invalid_grant, invalid_client, not_installed… */
    readonly reason: string,
    /** What the admin must do, in a sentence (shown by /healthz and check). */
    readonly advice: string,
  ) {
    super(`Bitrix24 application not authorised (${reason}): ${advice}`);
    this.name = 'AuthRequiredError';
  }
}
