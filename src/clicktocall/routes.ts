import { restrictTo, tokenMatches, type AddressMatcher } from '../http/auth.js';
import { errorResponse, json } from '../http/errors.js';
import { formString, readFormPost } from '../http/form.js';
import type { HttpLogger, Route } from '../http/types.js';
import type { ClickToCall } from './service.js';
import { startFromEvent } from './telephony-events.js';

/**
 * POST /bitrix/events: Bitrix24's events (an outbound webhook's, or an application's online events),
 * form-encoded with PHP bracket keys. Checks run cheapest and least revealing first: peer address (403), content
 * type (415), form (400), application token (401; and the portal's member_id when an application is installed);
 * only then is the event looked at. A refused request changes nothing.
 */

export interface EventsRouteOptions {
  /** The token events must carry (bitrix.applicationToken, or the installed application's), read per request; undefined refuses all. */
  applicationToken: () => string | undefined;
  /** App mode: the installed portal's member_id, which events must carry too. */
  memberId?: () => string | undefined;
  allow: AddressMatcher;
  service: Pick<ClickToCall, 'startCall' | 'startCallback'>;
  logger: HttpLogger;
}

export function createEventsRoute(opts: EventsRouteOptions): Route {
  return restrictTo(opts.allow, async (req) => {
    const read = readFormPost(req);
    if (!read.ok) return read.response;
    const { form } = read;
    const memberId = opts.memberId?.();
    const tokenOk = tokenMatches(opts.applicationToken(), formString(form, 'auth', 'application_token'));
    // Both checks always run: how long a refusal takes says nothing about which one failed.
    const memberOk = memberId === undefined || tokenMatches(memberId, formString(form, 'auth', 'member_id'));
    if (!tokenOk || !memberOk) {
      opts.logger.warn({ remoteAddress: req.remoteAddress }, 'Bitrix24 event with a missing or wrong application token refused');
      return errorResponse('UNAUTHORIZED', 'missing or wrong auth[application_token]');
    }
    const result = await startFromEvent(formString(form, 'event'), (name) => formString(form, 'data', name), opts.service);
    if (!result.ok) return errorResponse(result.code, result.message);
    return json(200, { ok: true, event: result.event, callId: result.callId, linkedid: result.linkedid });
  });
}
