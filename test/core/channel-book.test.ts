import { describe, expect, it } from 'vitest';
import { ChannelBook } from '../../src/core/channel-book.js';

/** The channel book on its own: channels, bridge membership, hung-up ids, and its part of the snapshot. */

type Op = ['add', string, string] | ['enter', string, string] | ['leave', string] | ['hangUp', string] | ['delete', string];

function book(ops: Op[], hungUpLimit = 8): { book: ChannelBook; members: Record<string, string[] | undefined> } {
  const b = new ChannelBook(hungUpLimit);
  const members: Record<string, string[] | undefined> = {};
  for (const op of ops) {
    if (op[0] === 'add') b.set(op[1], { linkedid: op[2], name: `PJSIP/${op[1]}`, context: 'from-internal', bridge: undefined });
    else if (op[0] === 'enter') members[op[2]] = [...(b.enterBridge(op[1], op[2]) ?? [])];
    else if (op[0] === 'leave') b.leaveBridge(op[1]);
    else if (op[0] === 'hangUp') b.hangUp(op[1]);
    else b.delete(op[1]);
  }
  return { book: b, members };
}

const bridgeOf = (b: ChannelBook, id: string) => b.get(id)?.bridge;

describe('the channel book', () => {
  it.each<[string, Op[], { ids: string[]; hungUp: string[]; bridges: Record<string, string | undefined> }]>([
    ['keeps channels in the order they came', [['add', 'a', 'L'], ['add', 'b', 'L']], { ids: ['a', 'b'], hungUp: [], bridges: { a: undefined, b: undefined } }],
    ['moves a channel from one bridge to the next', [['add', 'a', 'L'], ['enter', 'a', 'B1'], ['enter', 'a', 'B2']], { ids: ['a'], hungUp: [], bridges: { a: 'B2' } }],
    ['takes a channel out of its bridge when it leaves', [['add', 'a', 'L'], ['enter', 'a', 'B1'], ['leave', 'a']], { ids: ['a'], hungUp: [], bridges: { a: undefined } }],
    ['forgets a hung-up channel and remembers that it hung up', [['add', 'a', 'L'], ['enter', 'a', 'B1'], ['hangUp', 'a']], { ids: [], hungUp: ['a'], bridges: {} }],
    ['forgets a deleted channel without calling it hung up', [['add', 'a', 'L'], ['delete', 'a']], { ids: [], hungUp: [], bridges: {} }],
    ['puts no unknown channel in a bridge', [['enter', 'x', 'B1']], { ids: [], hungUp: [], bridges: { x: undefined } }],
  ])('%s', (_, ops, want) => {
    const { book: b } = book(ops);
    expect(b.ids()).toEqual(want.ids);
    for (const id of want.hungUp) expect(b.isHungUp(id)).toBe(true);
    for (const [id, bridge] of Object.entries(want.bridges)) expect(bridgeOf(b, id)).toBe(bridge);
    expect(b.size).toBe(want.ids.length);
  });

  it('gives the members of a bridge in the order they entered, the channel itself included', () => {
    const { members } = book([['add', 'a', 'L'], ['add', 'b', 'L'], ['add', 'c', 'M'], ['enter', 'a', 'B'], ['enter', 'b', 'B'], ['leave', 'a'], ['enter', 'c', 'B']]);
    expect(members).toEqual({ B: ['b', 'c'] });
  });

  it('remembers only the latest hung-up ids, up to its limit', () => {
    const ops: Op[] = ['a', 'b', 'c', 'd'].flatMap((id): Op[] => [['add', id, 'L'], ['hangUp', id]]);
    const { book: b } = book(ops, 3);
    expect(['a', 'b', 'c', 'd'].map((id) => b.isHungUp(id))).toEqual([false, true, true, true]);
    expect(b.exportState().hungUp).toEqual(['b', 'c', 'd']);
  });

  it('comes back from its snapshot with the same channels, bridges and hung-up ids', () => {
    const { book: before } = book([['add', 'a', 'L'], ['add', 'b', 'L'], ['add', 'c', 'M'], ['enter', 'a', 'B'], ['enter', 'b', 'B'], ['add', 'd', 'M'], ['hangUp', 'd']]);
    const saved = JSON.parse(JSON.stringify(before.exportState())) as ReturnType<ChannelBook['exportState']>;
    const after = new ChannelBook(8);
    after.importState(saved.channels, saved.hungUp);
    expect(after.exportState()).toEqual(before.exportState());
    expect(after.isHungUp('d')).toBe(true);
    // The bridge's membership is rebuilt, not only each channel's bridge id: a new member sees the old ones.
    expect([...after.enterBridge('c', 'B')!]).toEqual(['a', 'b', 'c']);
  });
});
