/**
 * The method table: lowercased names (docs/reference/bitrix24-rest.md#method-names) → scope, handler and
 * auth-type gate.
 */
import type { AuthGate, MethodDef } from '../dispatch.js';
import { batchMethod } from './batch.js';
import {
  companyGetMethod,
  contactGetMethod,
  findByCommMethod,
  leadAddMethod,
  leadGetMethod,
  timelineCommentAddMethod,
} from './crm.js';
import {
  appInfoMethod,
  imNotifyMethod,
  methodsMethod,
  profileMethod,
  scopeMethod,
  serverTimeMethod,
  taskAddMethod,
} from './misc.js';
import { eventBindMethod, eventGetMethod, eventUnbindMethod } from './events.js';
import { featureGetMethod, offlineClearMethod, offlineGetMethod, offlineListMethod } from './offline.js';
import { hideMethod, showMethod } from './telephony-card.js';
import { finishMethod } from './telephony-finish.js';
import { lineAddMethod, lineDeleteMethod, lineGetMethod, lineUpdateMethod } from './telephony-lines.js';
import { attachRecordMethod, uploadMethod } from './telephony-record.js';
import { registerMethod } from './telephony-register.js';
import { searchCrmEntitiesMethod } from './telephony-search.js';
import { attachTranscriptionMethod, statisticGetMethod } from './telephony-transcript.js';
import { userCurrentMethod, userGetMethod } from './users.js';

const TELEPHONY = ['telephony'];
const CRM = ['crm'];
const USER = ['user', 'user_basic', 'user_brief'];

export function methodTable(): Map<string, MethodDef> {
  const table: Array<[string, string[] | null, MethodDef['handler'], AuthGate?]> = [
    ['batch', null, batchMethod],
    ['profile', null, profileMethod],
    ['scope', null, scopeMethod],
    ['methods', null, methodsMethod],
    ['server.time', null, serverTimeMethod],
    ['app.info', null, appInfoMethod],
    ['feature.get', null, featureGetMethod],
    ['event.bind', null, eventBindMethod, 'app'],
    ['event.unbind', null, eventUnbindMethod, 'app'],
    ['event.get', null, eventGetMethod, 'app'],
    ['event.offline.get', null, offlineGetMethod, 'app'],
    ['event.offline.clear', null, offlineClearMethod, 'app'],
    ['event.offline.list', null, offlineListMethod, 'app'],
    ['telephony.externalcall.register', TELEPHONY, registerMethod, 'telephony'],
    ['telephony.externalcall.show', TELEPHONY, showMethod],
    ['telephony.externalcall.hide', TELEPHONY, hideMethod],
    ['telephony.externalcall.finish', TELEPHONY, finishMethod, 'telephony'],
    ['telephony.externalcall.attachrecord', TELEPHONY, attachRecordMethod],
    ['telephony.externalcall.searchcrmentities', TELEPHONY, searchCrmEntitiesMethod],
    ['telephony.call.attachtranscription', TELEPHONY, attachTranscriptionMethod],
    ['voximplant.statistic.get', TELEPHONY, statisticGetMethod],
    ['telephony.externalline.add', TELEPHONY, lineAddMethod, 'telephony'],
    ['telephony.externalline.update', TELEPHONY, lineUpdateMethod, 'telephony'],
    ['telephony.externalline.delete', TELEPHONY, lineDeleteMethod, 'telephony'],
    ['telephony.externalline.get', TELEPHONY, lineGetMethod, 'telephony'],
    ['upload', TELEPHONY, uploadMethod],
    ['user.get', USER, userGetMethod],
    ['user.current', USER, userCurrentMethod],
    ['crm.duplicate.findbycomm', CRM, findByCommMethod],
    ['crm.lead.add', CRM, leadAddMethod],
    ['crm.lead.get', CRM, leadGetMethod],
    ['crm.contact.get', CRM, contactGetMethod],
    ['crm.company.get', CRM, companyGetMethod],
    ['crm.timeline.comment.add', CRM, timelineCommentAddMethod],
    ['im.notify', ['im'], imNotifyMethod],
    ['tasks.task.add', ['task'], taskAddMethod],
  ];
  return new Map(table.map(([name, scopes, handler, gate]) => [name, gate ? { scopes, handler, gate } : { scopes, handler }]));
}
