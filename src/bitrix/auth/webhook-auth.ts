import type { RestAuth } from './rest-auth.js';

/**
 * An inbound webhook: `https://portal/rest/<user id>/<code>/`. The code is the secret and it lives in the URL, so
 * the URL, its path and the code are all scrubbed from anything that could be logged.
 */
export function webhookAuth(webhookUrl: string): RestAuth {
  let parsed: URL;
  try {
    parsed = new URL(webhookUrl);
  } catch {
    // Deliberately without the value: it is the secret.
    throw new TypeError('webhookUrl is not a valid URL');
  }
  const base = parsed.href.endsWith('/') ? parsed.href : `${parsed.href}/`;
  const code = /^\/rest\/[^/]+\/([^/]+)/.exec(parsed.pathname)?.[1];
  const secrets = [webhookUrl, base, parsed.pathname, code, parsed.password, parsed.username].filter(
    (s): s is string => s !== undefined && s !== '' && s !== '/',
  );
  return {
    mode: 'webhook',
    credentials: async () => ({ base }),
    // A webhook has nothing to renew: the client never calls this for it (its 401 is final).
    renew: async () => undefined,
    secrets: () => secrets,
  };
}

/** Keeps scheme, host and webhook user id, replaces the webhook code with `***`; safe to log. */
export function redactWebhookUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '***';
  }
  const match = /^\/rest\/([^/]+)\/[^/]+/.exec(parsed.pathname);
  const path = match ? `/rest/${match[1]}/***/` : '/***';
  // `host` leaves out user:password, if someone put them in the URL.
  return `${parsed.protocol}//${parsed.host}${path}`;
}
