import { AmiFramer } from '../../../src/ami/framer.js';
import type { AmiMessage } from '../../../src/ami/types.js';

/**
 * The readable `.txt` beside a recorded `.ami`: one line per message, seconds since the connection opened
 * (from the Timestamp header when there is one), the event or response and the fields that tell a call's story.
 */

const KEY_FIELDS = [
  'Channel',
  'DestChannel',
  'ChannelStateDesc',
  'Context',
  'Exten',
  'Uniqueid',
  'Linkedid',
  'Queue',
  'Interface',
  'Location',
  'Name',
  'StateInterface',
  'MemberName',
  'Paused',
  'PausedReason',
  'Penalty',
  'CallsTaken',
  'LastCall',
  'LastPause',
  'Strategy',
  'RingTime',
  'DialString',
  'DialStatus',
  'BridgeUniqueid',
  'BridgeId',
  'Cause',
  'Result',
  'Reason',
  'TransfererChannel',
  'TransfereeChannel',
  'OrigTransfererChannel',
  'SecondTransfererChannel',
  'TransferTargetChannel',
  'DestType',
  'Extension',
  'Variable',
  'Value',
  'Application',
  'ApplicationData',
  'ConnectedLineNum',
  'Duration',
  'Phase',
  'ActionID',
  'EventList',
  'Message',
];

/** Events that say little about calls and would drown the summary. */
const QUIET = new Set(['Newexten', 'VarSet', 'RTCPSent', 'RTCPReceived', 'DeviceStateChange', 'ExtensionStatus', 'NewAccountCode', 'LocalOptimizationBegin']);

export function summarizeTrace(ami: Buffer, file: string, header: string, openedAtMs?: number): string {
  const outputs = new AmiFramer().push(ami);
  const first = outputs.find((o) => o.type === 'message' && Number(o.message['Timestamp']) > 0);
  const t0 = openedAtMs ?? (first?.type === 'message' ? Number(first.message['Timestamp']) * 1000 : 0);
  const lines: string[] = [header, ''];
  let count = 0;
  let quiet = 0;
  for (const out of outputs) {
    if (out.type === 'banner') lines.push(`banner: ${out.text}`);
    if (out.type !== 'message') continue;
    count++;
    const m = out.message;
    const name = typeof m['Event'] === 'string' ? m['Event'] : `Response ${String(m['Response'] ?? '?')}`;
    if (QUIET.has(name) && !(name === 'VarSet' && /^(MIXMONITOR_FILENAME|QUEUESTATUS|DIALSTATUS|BRIDGEPEER)$/.test(String(m['Variable'])))) {
      quiet++;
      continue;
    }
    lines.push(`${when(m, t0)}  ${name.padEnd(24)} ${describe(m)}`);
  }
  // The framer test reads the count from this line, as in the test bed's summaries.
  lines.splice(1, 0, `raw stream: ${file} (${ami.length} bytes, ${count} messages)`);
  lines.splice(2, 0, `${quiet} of them (${[...QUIET].join(', ')}) are left out below; t = seconds since the connection opened`);
  return `${lines.join('\n')}\n`;
}

function when(m: AmiMessage, openedAtMs: number): string {
  const ts = Number(m['Timestamp']);
  return Number.isFinite(ts) && ts > 0 ? `${((ts * 1000 - openedAtMs) / 1000).toFixed(3).padStart(8)}` : '        ';
}

function describe(m: AmiMessage): string {
  return KEY_FIELDS.filter((k) => m[k] !== undefined && m[k] !== '')
    .map((k) => `${k}=${Array.isArray(m[k]) ? (m[k] as string[]).join('|') : String(m[k])}`)
    .join(' ');
}
