/** One line per Bitrix24 command as the portal saw it, for the demo's transcript. */
export interface SeenCommand {
  method: string;
  params: Record<string, unknown>;
  ok: boolean;
  result?: unknown;
  error?: unknown;
}

const SHORT: Record<string, string> = {
  'telephony.externalcall.register': 'register',
  'telephony.externalcall.show': 'show    ',
  'telephony.externalcall.hide': 'hide    ',
  'telephony.externalcall.finish': 'finish  ',
  'telephony.externalcall.attachrecord': 'attach  ',
  upload: 'upload  ',
};

function users(v: unknown): string {
  return Array.isArray(v) ? `[${v.join(',')}]` : String(v);
}

export function describeCommand(c: SeenCommand): string {
  const p = c.params;
  const name = SHORT[c.method] ?? c.method;
  let detail: string;
  switch (c.method) {
    case 'telephony.externalcall.register':
      detail = `TYPE=${String(p['TYPE'])} PHONE_NUMBER=${String(p['PHONE_NUMBER'])} USER_ID=${String(p['USER_ID'])} START=${String(p['CALL_START_DATE'])} CRM_CREATE=${String(p['CRM_CREATE'])}`;
      if (c.ok) detail += ` -> ${String((c.result as { CALL_ID?: string } | undefined)?.CALL_ID ?? '')}`;
      break;
    case 'telephony.externalcall.finish':
      detail = `USER_ID=${String(p['USER_ID'])} DURATION=${String(p['DURATION'])}s STATUS_CODE=${String(p['STATUS_CODE'])}`;
      break;
    case 'telephony.externalcall.show':
    case 'telephony.externalcall.hide':
      detail = `USER_ID=${users(p['USER_ID'])}`;
      break;
    case 'telephony.externalcall.attachrecord':
      detail = `FILENAME=${String(p['FILENAME'])}${typeof p['FILE_CONTENT'] === 'string' ? ` (${Math.round((p['FILE_CONTENT'].length * 3) / 4 / 1024)} KiB inline)` : ' (upload URL)'}`;
      break;
    case 'upload':
      detail = 'the recording file, to the upload URL';
      break;
    default:
      detail = Object.keys(p).join(',');
  }
  return `${name} ${detail}${c.ok ? '' : `   ERROR ${JSON.stringify(c.error)}`}`;
}
