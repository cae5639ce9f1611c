/**
 * Simple but validated versions of the side-effect methods a bridge uses
 * (im.notify, tasks.task.add) and the start-up probes (docs/reference/bitrix24-rest.md#start-up-probes):
 * profile, scope, methods, server.time, app.info.
 */
import { RestError, isoWithOffset } from '../envelope.js';
import type { MethodHandler } from '../dispatch.js';
import { isPhpArray, phpInt, phpString, upperKeys } from '../php.js';
import { isAdmin } from './events.js';

const ALL_SCOPES = ['bizproc', 'calendar', 'crm', 'department', 'disk', 'im', 'imbot', 'imopenlines', 'lists',
  'log', 'placement', 'pull', 'sonet_group', 'task', 'telephony', 'user', 'user_basic', 'user_brief'];

export const imNotifyMethod: MethodHandler = (params, ctx) => {
  const p = upperKeys(params);
  // Old docs call the recipient `to`; current ones USER_ID.
  const userId = phpInt(p.USER_ID ?? p.TO);
  if (userId <= 0) throw new RestError(400, 'USER_ID_EMPTY', "User ID can't be empty");
  const message = phpString(p.MESSAGE).trim();
  if (message === '') throw new RestError(400, 'MESSAGE_EMPTY', "Message can't be empty");
  // "If the notification was not created, it may return false."
  if (!ctx.state.activeRealUser(userId)) return { result: false };
  const id = ctx.state.nextId('notify');
  ctx.state.notifications.push({ id, userId, message, params: p });
  return { result: id };
};

export const taskAddMethod: MethodHandler = (params, ctx) => {
  if (!isPhpArray(params.fields) || Array.isArray(params.fields)) {
    throw new RestError(400, '100', 'Could not find value for parameter {fields}');
  }
  const fields = upperKeys(params.fields);
  const title = phpString(fields.TITLE).trim();
  if (title === '') throw new RestError(400, 'ERROR_CORE', 'Task title not specified<br>');
  const responsibleId = phpInt(fields.RESPONSIBLE_ID);
  if (responsibleId <= 0) throw new RestError(400, 'ERROR_CORE', 'Assignee not specified<br>');
  if (!ctx.state.users.has(responsibleId)) {
    throw new RestError(400, 'ERROR_CORE', 'User specified in the "Assignee" field not found<br>');
  }
  const id = ctx.state.nextId('task');
  ctx.state.tasks.push({ id, fields });
  const now = isoWithOffset(ctx.clock(), ctx.offsetMinutes);
  return {
    result: {
      task: {
        id: String(id),
        parentId: null,
        title,
        description: phpString(fields.DESCRIPTION),
        priority: phpString(fields.PRIORITY) || '1',
        status: '2',
        createdBy: String(phpInt(fields.CREATED_BY) || ctx.ownerId),
        createdDate: now,
        responsibleId: String(responsibleId),
        deadline: phpString(fields.DEADLINE) || null,
        groupId: String(phpInt(fields.GROUP_ID)),
        auditors: [],
        accomplices: [],
      },
    },
  };
};

export const profileMethod: MethodHandler = (_params, ctx) => {
  const user = ctx.state.users.get(ctx.ownerId);
  return {
    result: {
      ID: String(ctx.ownerId),
      ADMIN: user ? isAdmin(ctx) : true,
      NAME: user?.name ?? '',
      LAST_NAME: user?.lastName ?? '',
      PERSONAL_GENDER: '',
      TIME_ZONE: '',
      TIME_ZONE_OFFSET: ctx.offsetMinutes * 60,
    },
  };
};

export const scopeMethod: MethodHandler = (params, ctx) => {
  const full = upperKeys(params).FULL;
  return { result: full === true || full === '1' || full === 'true' ? ALL_SCOPES : [...ctx.scopes] };
};

export const methodsMethod: MethodHandler = (_params, ctx) => ({ result: ctx.methodNames() });

export const serverTimeMethod: MethodHandler = (_params, ctx) => ({
  result: isoWithOffset(ctx.clock(), ctx.offsetMinutes),
});

/**
 * With a webhook app.info answers only SCOPE and LICENSE (docs/reference/bitrix24-rest.md#start-up-probes);
 * with the app's token, the app's card
 * (source rest/classes/general/rest_provider.php appInfo; a local app's CODE is its client_id here).
 */
export const appInfoMethod: MethodHandler = (_params, ctx) => {
  if (ctx.auth.type === 'webhook' || !ctx.app) return { result: { SCOPE: [...ctx.scopes], LICENSE: 'en_project' } };
  const { config } = ctx.app;
  return {
    result: {
      ID: ctx.app.id,
      CODE: config.clientId,
      VERSION: phpInt(config.version),
      STATUS: 'L',
      INSTALLED: true,
      PAYMENT_EXPIRED: 'N',
      DAYS: null,
      LANGUAGE_ID: 'en',
      LICENSE: 'en_project',
      LICENSE_TYPE: 'project',
      LICENSE_FAMILY: 'project',
    },
  };
};
