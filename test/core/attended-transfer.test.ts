import { describe, expect, it } from 'vitest';
import type { AmiMessage } from '../../src/ami/types.js';
import { newCall } from '../../src/core/call.js';
import { Consultations } from '../../src/core/consult.js';
import { createCore, newTurn } from '../../src/core/core-state.js';
import type { Effect } from '../../src/core/effects.js';
import { normalize } from '../../src/core/normalize.js';
import type { CallTracker } from '../../src/core/tracker.js';
import { traceOptions, traceTracker } from '../support/traces.js';

/**
 * Attended transfers, as AMI messages shaped like Asterisk 22's (snapshot fields as in the recorded traces; the
 * AttendedTransfer fields as in docs/reference/asterisk-ami.md#transfers: OrigTransferer*, SecondTransferer*, DestType,
 * Transferee*, TransferTarget*). The traces record only a blind transfer, so these are built by hand: agent 101
 * (user 11) answers a direct-dialled customer, consults 102 (user 12) on a call of its own, then transfers or not.
 */
interface Chan {
  name: string;
  uniqueid: string;
  linkedid: string;
  context: string;
  exten: string;
  callerIdNum: string;
}

const T0 = 1795264000;
const CUSTOMER = `${T0}.200`;
const CONSULT = `${T0 + 10}.202`;

const trunk: Chan = { name: 'PJSIP/trunk-000000c8', uniqueid: CUSTOMER, linkedid: CUSTOMER, context: 'from-trunk', exten: '74951230000', callerIdNum: '79990001122' };
const agent101: Chan = { name: 'PJSIP/101-000000c9', uniqueid: `${T0}.201`, linkedid: CUSTOMER, context: 'from-internal', exten: 's', callerIdNum: '101' };
/** 101's consultation: a new channel from the same phone, a call (and Linkedid) of its own. */
const consult101: Chan = { name: 'PJSIP/101-000000ca', uniqueid: CONSULT, linkedid: CONSULT, context: 'from-internal', exten: '102', callerIdNum: '101' };
const target102: Chan = { name: 'PJSIP/102-000000cb', uniqueid: `${T0 + 10}.203`, linkedid: CONSULT, context: 'from-internal', exten: 's', callerIdNum: '102' };
const B1 = '3f0c6a52-5d1e-4a8e-9c6f-0b7e2d1a9e01';
const B2 = '8d2b1f44-7c3a-4e55-b1d0-6a9f3c2e7b02';

function snapshot(ch: Chan, prefix = ''): AmiMessage {
  return {
    [`${prefix}Channel`]: ch.name,
    [`${prefix}ChannelState`]: '6',
    [`${prefix}ChannelStateDesc`]: 'Up',
    [`${prefix}CallerIDNum`]: ch.callerIdNum,
    [`${prefix}CallerIDName`]: '<unknown>',
    [`${prefix}ConnectedLineNum`]: '<unknown>',
    [`${prefix}ConnectedLineName`]: '<unknown>',
    [`${prefix}Language`]: 'en',
    [`${prefix}AccountCode`]: '',
    [`${prefix}Context`]: ch.context,
    [`${prefix}Exten`]: ch.exten,
    [`${prefix}Priority`]: '1',
    [`${prefix}Uniqueid`]: ch.uniqueid,
    [`${prefix}Linkedid`]: ch.linkedid,
  };
}

const ev = (event: string, t: number, ...parts: AmiMessage[]): AmiMessage =>
  Object.assign({ Event: event, Privilege: 'call,all', Timestamp: (T0 + t).toFixed(6) }, ...parts);
const bridge = (id: string, prefix = ''): AmiMessage => ({ [`${prefix}BridgeUniqueid`]: id, [`${prefix}BridgeType`]: 'basic', [`${prefix}BridgeTechnology`]: 'simple_bridge' });

const newchannel = (t: number, ch: Chan) => ev('Newchannel', t, snapshot(ch));
const dialBegin = (t: number, from: Chan, to: Chan, dialString: string) => ev('DialBegin', t, snapshot(from), snapshot(to, 'Dest'), { DialString: dialString });
const dialEnd = (t: number, from: Chan, to: Chan, status: string) => ev('DialEnd', t, snapshot(from), snapshot(to, 'Dest'), { DialStatus: status });
const enter = (t: number, id: string, ch: Chan) => ev('BridgeEnter', t, bridge(id), snapshot(ch));
const leave = (t: number, id: string, ch: Chan) => ev('BridgeLeave', t, bridge(id), snapshot(ch));
const hangup = (t: number, ch: Chan, cause: number) => ev('Hangup', t, snapshot(ch), { Cause: String(cause), 'Cause-txt': cause === 16 ? 'Normal Clearing' : '' });
const attendedTransfer = (t: number, orig: Chan, origBridge: string, second: Chan, secondBridge: string, target: Chan, destType = 'Bridge') =>
  ev(
    'AttendedTransfer',
    t,
    { Result: 'Success' },
    snapshot(orig, 'OrigTransferer'),
    bridge(origBridge, 'Orig'),
    snapshot(second, 'SecondTransferer'),
    bridge(secondBridge, 'Second'),
    destType === 'Bridge' ? { DestType: destType, DestBridgeUniqueid: origBridge } : { DestType: destType },
    snapshot(trunk, 'Transferee'),
    snapshot(target, 'TransferTarget'),
    { IsExternal: 'Yes' },
  );

/** The customer call: 101 answers after 3 s and talks; at 10 s it puts the customer on hold and dials 102. */
const answeredThenConsulting: AmiMessage[] = [
  newchannel(0, trunk),
  dialBegin(0, trunk, agent101, 'PJSIP/101'),
  dialEnd(3, trunk, agent101, 'ANSWER'),
  enter(3, B1, agent101),
  enter(3, B1, trunk),
  ev('Hold', 10, snapshot(agent101), { MusicClass: 'default' }),
  newchannel(10, consult101),
  dialBegin(10, consult101, target102, 'PJSIP/102'),
];

function run(messages: AmiMessage[], tracker: CallTracker = traceTracker()): Array<{ t: number; effect: Effect }> {
  const out: Array<{ t: number; effect: Effect }> = [];
  for (const msg of messages) {
    const input = normalize(msg, 0);
    if (!input) continue;
    for (const effect of tracker.handle(input)) out.push({ t: input.at / 1000 - T0, effect });
  }
  return out;
}

/** Bitrix24-bound effects as `t type users`: the whole sequence a portal sees. */
const portal = (effects: Array<{ t: number; effect: Effect }>) =>
  effects.flatMap(({ t, effect: e }) => {
    if (e.type === 'show' || e.type === 'hide') return [`${t} ${e.type} ${e.userIds.join(',')}`];
    if (e.type === 'register') return [`${t} register ${e.userId}`];
    if (e.type === 'finish') return [`${t} finish ${e.userId} ${e.durationSec}s ${e.status}`];
    return [];
  });

describe('an attended transfer', () => {
  it('normalizes AttendedTransfer with both transferer sides and the target channel', () => {
    const input = normalize(attendedTransfer(20, agent101, B1, consult101, B2, target102), 0);
    expect(input).toMatchObject({
      kind: 'transfer',
      type: 'attended',
      ok: true,
      transferer: { uniqueid: agent101.uniqueid, linkedid: CUSTOMER },
      secondTransferer: { uniqueid: CONSULT, linkedid: CONSULT },
      targetChannel: { uniqueid: target102.uniqueid, name: target102.name },
      target: target102.name,
    });
  });

  it('shows the target the card while the consultation rings, moves it on completion, and finishes by the target', () => {
    const moved = { ...target102, linkedid: CUSTOMER };
    const effects = run([
      ...answeredThenConsulting,
      dialEnd(14, consult101, target102, 'ANSWER'),
      enter(14, B2, target102),
      enter(14, B2, consult101),
      // 101's phone sends REFER with Replaces: Asterisk merges the consultation into the customer's bridge,
      // rewrites the target's Linkedid to the oldest one, drops both of 101's channels, then reports the transfer.
      leave(20, B1, agent101),
      leave(20, B2, target102),
      enter(20, B1, moved),
      leave(20, B2, consult101),
      attendedTransfer(20, agent101, B1, consult101, B2, moved),
      hangup(20, agent101, 16),
      hangup(20, { ...consult101 }, 16),
      hangup(50, moved, 16),
      hangup(50, trunk, 16),
    ]);
    expect(portal(effects)).toEqual(['0 register 11', '0 show 11', '10 show 12', '20 hide 11', '50 finish 12 47s 200']);
    expect(effects.find((e) => e.effect.type === 'callEnded')?.effect).toMatchObject({ answeredBy: ['101', '102'], transfers: [`attended:${target102.name}`] });
  });

  it('hides the target card when the consultation is cancelled while it rings, and the agent keeps the call', () => {
    const effects = run([
      ...answeredThenConsulting,
      dialEnd(16, consult101, target102, 'CANCEL'),
      hangup(16, target102, 0),
      hangup(16, consult101, 16),
      ev('Unhold', 17, snapshot(agent101)),
      hangup(40, agent101, 16),
      hangup(40, trunk, 16),
    ]);
    expect(portal(effects)).toEqual(['0 register 11', '0 show 11', '10 show 12', '16 hide 12', '40 finish 11 37s 200']);
  });

  it('hides the target card when the target rejects the consultation (DialEnd, then Hangup Cause 21)', () => {
    const effects = run([
      ...answeredThenConsulting,
      dialEnd(12, consult101, target102, 'NOANSWER'),
      hangup(12, target102, 21),
      hangup(13, consult101, 21),
      hangup(40, agent101, 16),
      hangup(40, trunk, 16),
    ]);
    expect(portal(effects)).toEqual(['0 register 11', '0 show 11', '10 show 12', '12 hide 12', '40 finish 11 37s 200']);
  });

  it('keeps the target card open while they consult, and hides it when the agent returns to the customer instead', () => {
    const effects = run([
      ...answeredThenConsulting,
      dialEnd(14, consult101, target102, 'ANSWER'),
      enter(14, B2, target102),
      enter(14, B2, consult101),
      leave(25, B2, consult101),
      hangup(25, consult101, 16),
      leave(25, B2, target102),
      hangup(25, target102, 16),
      ev('Unhold', 26, snapshot(agent101)),
      hangup(60, trunk, 16),
      hangup(60, agent101, 16),
    ]);
    expect(portal(effects)).toEqual(['0 register 11', '0 show 11', '10 show 12', '25 hide 12', '60 finish 11 57s 200']);
  });

  it.each([
    ['after', false],
    ['before', true],
  ])('finishes by the target when the customer is moved into the consultation bridge, the transfer event %s the move', (_, eventFirst) => {
    // Either dialog may carry the REFER: here the consultation side is OrigTransferer, and Asterisk moves the
    // customer into the consultation's bridge, where 101's consultation channel still sits with its own Linkedid.
    const transfer = attendedTransfer(20, consult101, B2, agent101, B1, target102);
    const effects = run([
      ...answeredThenConsulting,
      dialEnd(14, consult101, target102, 'ANSWER'),
      enter(14, B2, target102),
      enter(14, B2, consult101),
      ...(eventFirst ? [transfer] : []),
      leave(20, B1, trunk),
      enter(20, B2, trunk),
      ...(eventFirst ? [] : [transfer]),
      leave(20, B1, agent101),
      hangup(20, agent101, 16),
      leave(20, B2, consult101),
      hangup(20, consult101, 16),
      hangup(45, target102, 16),
      hangup(45, trunk, 16),
    ]);
    expect(portal(effects)).toEqual(['0 register 11', '0 show 11', '10 show 12', '20 hide 11', '45 finish 12 42s 200']);
  });

  it('finishes by the target when Asterisk links the two bridges instead of merging them (DestType Link)', () => {
    // The target never shares a bridge with the customer (Local channels join the two bridges): only the
    // AttendedTransfer event says who talks now.
    const effects = run([
      ...answeredThenConsulting,
      dialEnd(14, consult101, target102, 'ANSWER'),
      enter(14, B2, target102),
      enter(14, B2, consult101),
      attendedTransfer(20, agent101, B1, consult101, B2, target102, 'Link'),
      leave(20, B1, agent101),
      hangup(20, agent101, 16),
      leave(20, B2, consult101),
      hangup(20, consult101, 16),
      hangup(45, trunk, 16),
    ]);
    expect(portal(effects)).toEqual(['0 register 11', '0 show 11', '10 show 12', '20 hide 11', '45 finish 12 42s 200']);
  });

  it('hides the ringing target card before the finish when the customer hangs up during the consultation', () => {
    const effects = run([...answeredThenConsulting, hangup(12, trunk, 16), hangup(12, agent101, 16)]);
    expect(portal(effects)).toEqual(['0 register 11', '0 show 11', '10 show 12', '12 hide 12', '12 finish 11 9s 200']);
    // The consultation's own later events reach nothing.
    expect(run([dialEnd(13, consult101, target102, 'CANCEL'), hangup(13, target102, 0)])).toEqual([]);
  });

  it('shows nothing when an agent who is not talking to a customer dials a colleague', () => {
    const idle103: Chan = { name: 'PJSIP/103-000000cc', uniqueid: `${T0 + 10}.204`, linkedid: `${T0 + 10}.204`, context: 'from-internal', exten: '102', callerIdNum: '103' };
    const ringing = { ...target102, uniqueid: `${T0 + 10}.205`, linkedid: idle103.linkedid };
    const effects = run([...answeredThenConsulting.slice(0, 5), newchannel(10, idle103), dialBegin(10, idle103, ringing, 'PJSIP/102')]);
    expect(portal(effects)).toEqual(['0 register 11', '0 show 11']);
  });

  it('routes the consultation after a restart from the snapshot', () => {
    const before = traceTracker();
    run(answeredThenConsulting, before);
    const after = traceTracker();
    after.importState(JSON.parse(JSON.stringify(before.exportState())));
    const effects = run([dialEnd(16, consult101, target102, 'CANCEL'), hangup(16, target102, 0)], after);
    expect(portal(effects)).toEqual(['16 hide 12']);
  });
});

describe('the consultation routing map', () => {
  it('holds a leg only until its hangup or the end of the call it consults on, whichever comes first', () => {
    const core = createCore(traceOptions({ users: { '102': 12 } }));
    const turn = newTurn('dialBegin', 0);
    const map = new Consultations();
    const call = newCall(CUSTOMER, 0);
    map.start(core, turn, call, 'leg.1', '102');
    map.start(core, turn, call, 'leg.2', '102');
    expect(map.size).toBe(2);
    // A hangup seen after the customer's call was already forgotten still frees its entry.
    map.hungUp(core, turn, undefined, 'leg.1');
    expect(map.linkedidOf('leg.1')).toBeUndefined();
    map.forgetCall(call);
    expect(map.size).toBe(0);
    expect(turn.out).toEqual([{ type: 'show', linkedid: CUSTOMER, userIds: [12] }]);
  });
});
