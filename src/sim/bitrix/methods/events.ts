/**
 * event.bind / event.get / event.unbind (source rest/lib/api/event.php, docs api-reference/events/*.md):
 * application auth only (the dispatcher's 'app' gate), keys case-insensitive, the source's validation order and
 * texts; offline bindings have no handler and need an administrator; a second identical binding fails.
 */
import { RestError, systemErrors } from '../envelope.js';
import type { MethodContext, MethodHandler } from '../dispatch.js';
import type { PortalApp } from '../app/portal-app.js';
import { isset, phpInt, phpString, upperKeys } from '../php.js';

/** Events the emulator knows, with the scope that offers them ('' = global). Only the two telephony starts fire. */
const EVENT_SCOPES: Record<string, string> = {
  ONEXTERNALCALLSTART: 'telephony',
  ONEXTERNALCALLBACKSTART: 'telephony',
  ONVOXIMPLANTCALLINIT: 'telephony',
  ONVOXIMPLANTCALLSTART: 'telephony',
  ONVOXIMPLANTCALLEND: 'telephony',
  ONAPPINSTALL: '',
  ONAPPUNINSTALL: '',
  ONAPPUPDATE: '',
};

/** CRestUtil::isAdmin for the calling user; the app's installer is one unless seeded with ADMIN: false. */
export function isAdmin(ctx: MethodContext): boolean {
  if (ctx.state.users.get(ctx.auth.userId)?.admin === true) return true;
  return ctx.app !== null && ctx.auth.userId === ctx.app.config.userId && ctx.app.config.installerIsAdmin;
}

/** The gate guarantees app auth, and app auth needs an installed app. */
export function appOf(ctx: MethodContext): PortalApp {
  if (!ctx.app) throw systemErrors.wrongAuthType();
  return ctx.app;
}

function eventType(raw: unknown): 'online' | 'offline' {
  const type = phpString(raw).toLowerCase();
  if (type === '') return 'online';
  if (type !== 'online' && type !== 'offline') throw systemErrors.argument('Value must be one of {online|offline}', 'EVENT_TYPE');
  return type;
}

/** HandlerHelper::checkCallback: a host (with a dot unless that rule is off), scheme http or https. */
function checkHandler(handler: string, needsDot: boolean): void {
  let url: URL | null = null;
  try {
    url = new URL(handler);
  } catch {
    url = null;
  }
  const host = url?.hostname ?? '';
  if (!url || host === '' || (needsDot && !(host.indexOf('.') > 0))) {
    throw new RestError(400, 'ERROR_WRONG_HANDLER_URL', 'Wrong handler URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RestError(400, 'ERROR_UNSUPPORTED_PROTOCOL', 'Unsupported handler protocol');
  }
}

export const eventBindMethod: MethodHandler = (params, ctx) => {
  const app = appOf(ctx);
  const q = upperKeys(params);
  const name = phpString(q.EVENT).toUpperCase();
  let user = phpInt(q.AUTH_TYPE);
  let handler = phpString(q.HANDLER);
  const admin = isAdmin(ctx);
  if (user > 0) {
    if (!admin && user !== ctx.auth.userId) {
      throw systemErrors.accessDenied('Event binding with AUTH_TYPE requires administrator access rights');
    }
  } else if (!admin) {
    user = ctx.auth.userId;
  }
  if (name === '') throw systemErrors.argumentNull('EVENT');
  const type = eventType(q.EVENT_TYPE);
  if (type === 'offline') {
    if (!admin) throw systemErrors.accessDenied('Offline events binding requires administrator access rights');
    handler = '';
    user = 0;
  } else if (handler === '') {
    throw systemErrors.argumentNull('HANDLER');
  }
  if (handler !== '') checkHandler(handler, app.config.handlerHostNeedsDot);
  const scope = EVENT_SCOPES[name];
  if (scope === undefined || (scope !== '' && !ctx.scopes.includes(scope))) {
    throw new RestError(400, 'ERROR_EVENT_NOT_FOUND', 'Event not found');
  }
  const added = app.bindings.add({ event: name, handler, userId: user, connectorId: '' });
  if (added === 'duplicate') throw new RestError(400, 'ERROR_CORE', 'Unable to set event handler: Handler already binded');
  return { result: true };
};

export const eventUnbindMethod: MethodHandler = (params, ctx) => {
  const app = appOf(ctx);
  const q = upperKeys(params);
  const name = phpString(q.EVENT).toUpperCase();
  let handler = phpString(q.HANDLER);
  if (name === '') throw systemErrors.argumentNull('EVENT');
  const type = eventType(q.EVENT_TYPE);
  const admin = isAdmin(ctx);
  let user: number | undefined;
  if (type === 'offline') {
    if (!admin) throw systemErrors.accessDenied('Offline events unbinding requires administrator access rights');
    handler = '';
  } else {
    if (handler === '') throw systemErrors.argumentNull('HANDLER');
    if (isset(q.AUTH_TYPE)) {
      user = phpInt(q.AUTH_TYPE);
      if (!admin && user !== ctx.auth.userId) {
        throw systemErrors.accessDenied('Event unbinding with AUTH_TYPE requires administrator access rights');
      }
    } else if (!admin) {
      user = ctx.auth.userId;
    }
  }
  const count = app.bindings.remove(
    (b) => b.event === name && b.handler === handler && (user === undefined || b.userId === user),
  );
  return { result: { count } };
};

export const eventGetMethod: MethodHandler = (_params, ctx) => {
  const app = appOf(ctx);
  const admin = isAdmin(ctx);
  const rows = app.bindings.list().filter((b) => admin || b.userId === ctx.auth.userId);
  return {
    result: rows.map((b) =>
      b.handler !== ''
        ? { event: b.event, handler: b.handler, auth_type: String(b.userId), offline: 0 }
        : { event: b.event, connector_id: b.connectorId, offline: 1 },
    ),
  };
};
