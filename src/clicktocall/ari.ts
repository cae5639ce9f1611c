import { OriginateError, type Originator } from './originate.js';

/**
 * ARI originate (POST /ari/channels, docs/reference/asterisk-ami.md#ari-originate) for sites that prefer ARI
 * to AMI for actions.
 * The channel goes to the dialplan (extension/context), not to a Stasis app: the call keeps working if the
 * daemon stops. Failures after acceptance show up as channel events on AMI, which the core already follows.
 */

export interface AriOptions {
  /** e.g. http://127.0.0.1:8088/ari */
  url: string;
  username: string;
  password: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export function ariOriginator(opts: AriOptions): Originator {
  const doFetch = opts.fetch ?? fetch;
  const endpoint = `${opts.url.replace(/\/+$/, '')}/channels`;
  const authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password}`, 'utf8').toString('base64')}`;
  return {
    async originate(req) {
      let res: Response;
      try {
        res = await doFetch(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization },
          body: JSON.stringify({
            endpoint: req.channel,
            extension: req.exten,
            context: req.context,
            priority: 1,
            callerId: req.callerId,
            // ARI's timeout is in seconds, AMI's in ms.
            timeout: Math.max(1, Math.ceil(req.timeoutMs / 1000)),
            channelId: req.channelId,
            otherChannelId: req.otherChannelId,
            variables: req.variables,
          }),
          signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
        });
      } catch (err) {
        // Our own deadline: the request may have reached a slow Asterisk, which could still run it.
        if (err instanceof Error && err.name === 'TimeoutError') {
          throw new OriginateError('PBX_UNAVAILABLE', 'Asterisk (ARI) did not answer the originate in time', true);
        }
        throw new OriginateError('PBX_UNAVAILABLE', 'Asterisk (ARI) is not reachable');
      }
      const text = await res.text().catch(() => '');
      if (res.ok) return {};
      if (res.status === 401 || res.status === 403) {
        throw new OriginateError('PBX_UNAVAILABLE', `ARI refused our credentials (HTTP ${res.status})`);
      }
      throw new OriginateError('ORIGINATE_FAILED', `Asterisk (ARI) refused the originate: HTTP ${res.status} ${ariMessage(text)}`);
    },
  };
}

function ariMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message.slice(0, 200) : '';
  } catch {
    return '';
  }
}
