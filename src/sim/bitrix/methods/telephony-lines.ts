/**
 * telephony.externalLine.add / update / get / delete (docs/reference/bitrix24-telephony.md#external-lines).
 * Lines belong to the caller's REST_APP_ID: null for the webhook, the app's id under app auth.
 */
import type { MethodHandler } from '../dispatch.js';
import { isset, phpString } from '../php.js';

export const lineAddMethod: MethodHandler = (params, ctx) => {
  const number = phpString(params.NUMBER ?? '').trim();
  if (number === '') throw ctx.fail('NUMBER should not be empty');
  if (ctx.state.lineByNumber(number, ctx.auth.appId)) throw ctx.fail('Line already exists');
  // Strict `=== 'Y'`: anything else (even JSON true) stores N; absent means Y.
  const crmAutoCreate = (params.CRM_AUTO_CREATE ?? 'Y') === 'Y' ? 'Y' : 'N';
  const line = ctx.state.addLine(number, phpString(params.NAME ?? ''), crmAutoCreate, ctx.auth.appId);
  return { result: { ID: line.id } };
};

export const lineUpdateMethod: MethodHandler = (params, ctx) => {
  const fields: { name?: string; crmAutoCreate?: 'Y' | 'N' } = {};
  if (isset(params.NAME)) fields.name = phpString(params.NAME);
  if (isset(params.CRM_AUTO_CREATE)) fields.crmAutoCreate = params.CRM_AUTO_CREATE === 'Y' ? 'Y' : 'N';
  // Checked before NUMBER (source voximplant/classes/general/vi_rest.php).
  if (Object.keys(fields).length === 0) throw ctx.fail('There are no fields to update');
  const number = phpString(params.NUMBER).trim();
  if (number === '') throw ctx.fail('NUMBER should not be empty');
  const line = ctx.state.lineByNumber(number, ctx.auth.appId);
  if (!line) throw ctx.fail(`Could not find line with number ${number}`);
  if (fields.name !== undefined) line.name = fields.name;
  if (fields.crmAutoCreate !== undefined) line.crmAutoCreate = fields.crmAutoCreate;
  // update returns the row id as a DB string, unlike add.
  return { result: { ID: String(line.id) } };
};

export const lineDeleteMethod: MethodHandler = (params, ctx) => {
  const number = phpString(params.NUMBER).trim();
  if (number === '') throw ctx.fail('NUMBER should not be empty');
  const line = ctx.state.lineByNumber(number, ctx.auth.appId);
  if (!line) throw ctx.fail(`Could not find line with number ${number}`);
  ctx.state.lines.delete(line.id);
  return { result: [] };
};

export const lineGetMethod: MethodHandler = (_params, ctx) => ({
  result: ctx.state.linesOf(ctx.auth.appId).map((l) => ({ NUMBER: l.number, NAME: l.name, CRM_AUTO_CREATE: l.crmAutoCreate })),
});
