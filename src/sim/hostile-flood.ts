import { formatAmiMessage } from './ami-simulator.js';

/**
 * What a broken or hostile AMI may send: events for distinct channels that never hang up, alternately a Newchannel
 * into an inbound context (a call that never rings anyone) and a Newexten in an IVR. `count` of them from `from` on,
 * as one write. Used by the hostile-AMI test and benchmark (the core's tracking limits, src/core/limits.ts).
 */
export function hostileFlood(from: number, count: number): Buffer {
  let out = '';
  for (let i = from; i < from + count; i++) {
    const id = `1796000000.${i}`;
    out +=
      i % 2 === 0
        ? formatAmiMessage({ Event: 'Newchannel', Privilege: 'call,all', Channel: `PJSIP/trunk-${i.toString(16)}`, ChannelState: '4', Uniqueid: id, Linkedid: id, Context: 'from-trunk', Exten: 's', CallerIDNum: `7495${i}`, CallerIDName: '' })
        : formatAmiMessage({ Event: 'Newexten', Privilege: 'dialplan,all', Channel: `PJSIP/ivr-${i.toString(16)}`, Uniqueid: id, Linkedid: id, Context: 'ivr-main', Exten: 's', Application: 'Background', AppData: 'welcome' });
  }
  return Buffer.from(out, 'latin1');
}
