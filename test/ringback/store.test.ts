import * as fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileRingBackStore, RingBackStoreError, type StoreFs } from '../../src/ringback/store.js';
import type { RingBackState } from '../../src/ringback/types.js';
import { tempDir } from '../support/tmp.js';

const STATE: RingBackState = {
  version: 1,
  changes: [
    {
      queue: 'sales',
      iface: 'Local/201@agents/n',
      memberName: 'Agent 201',
      policy: 'pause',
      phase: 'active',
      acked: true,
      changedAt: 1000,
      until: 61_000,
      cooldownMs: 60_000,
      level: 0,
    },
  ],
  strikes: [{ queue: 'sales', iface: 'Local/201@agents/n', level: 0, lastAt: 1000 }],
};

const tmpDir = () => tempDir('ringback-store-');

function failing(call: keyof StoreFs, code: string): StoreFs {
  return {
    ...fs,
    [call]: () => {
      throw Object.assign(new Error(`${code}: simulated`), { code });
    },
  } as StoreFs;
}

function caught(fn: () => unknown): RingBackStoreError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RingBackStoreError);
    return err as RingBackStoreError;
  }
  throw new Error('expected an error');
}

describe('ring-back state file', () => {
  it('saves and loads the state, creating state.dir, leaving no temp file behind', () => {
    const dir = path.join(tmpDir(), 'nested');
    const store = new FileRingBackStore({ dir });
    expect(store.load()).toBeUndefined();
    store.save(STATE);
    expect(store.load()).toEqual(STATE);
    expect(fs.readdirSync(dir)).toEqual(['ringback.json']);
  });

  it('keeps the reason each pause was made with, and still reads a file written before reasons were saved', () => {
    const dir = tmpDir();
    const store = new FileRingBackStore({ dir });
    const withReason: RingBackState = { ...STATE, changes: [{ ...STATE.changes[0]!, reason: 'old-reason' }] };
    store.save(withReason);
    expect(store.load()?.changes[0]?.reason).toBe('old-reason');
    fs.writeFileSync(store.file, JSON.stringify(STATE)); // the format before: no reason field
    expect(store.load()).toEqual(STATE);
  });

  it('keeps the previous file whole when a write fails half-way (temp file + rename)', () => {
    const dir = tmpDir();
    new FileRingBackStore({ dir }).save(STATE);
    const err = caught(() => new FileRingBackStore({ dir, fs: failing('fsyncSync', 'EIO') }).save({ ...STATE, changes: [] }));
    expect(err.code).toBe('IO');
    expect(new FileRingBackStore({ dir }).load()).toEqual(STATE);
    expect(fs.readdirSync(dir)).toEqual(['ringback.json']);
  });

  it('says clearly when the disk is read-only or full', () => {
    const dir = tmpDir();
    const ro = caught(() => new FileRingBackStore({ dir, fs: failing('openSync', 'EROFS') }).save(STATE));
    expect(ro.code).toBe('READ_ONLY');
    expect(ro.message).toBe(`cannot write ring-back state ${path.join(dir, 'ringback.json')}: the file system is read-only (EROFS)`);
    const full = caught(() => new FileRingBackStore({ dir, fs: failing('writeSync', 'ENOSPC') }).save(STATE));
    expect(full.code).toBe('DISK_FULL');
    expect(full.message).toContain('no space left on the device (ENOSPC)');
    const denied = caught(() => new FileRingBackStore({ dir, fs: failing('openSync', 'EACCES') }).save(STATE));
    expect(denied.code).toBe('NO_ACCESS');
  });

  it('moves a corrupt file aside and reports it, so the next start is not a crash loop', () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'ringback.json'), '{"version": 1, "changes": [{"queue": 7}]');
    const store = new FileRingBackStore({ dir, clock: () => 123 });
    const err = caught(() => store.load());
    expect(err.code).toBe('CORRUPT');
    expect(fs.readdirSync(dir)).toEqual(['ringback.json.corrupt-123']);
    expect(store.load()).toBeUndefined();
  });
});
