import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordingsSchema } from '../../src/config/recordings.js';
import { setupRecordings } from '../../src/recordings/setup.js';
import { memoryLogger, tempDir } from './helpers.js';

/** What a run killed mid-transcode (kill -9, a SIGTERM past its drain limit) leaves in the work dir. */
async function leftovers(dir: string): Promise<void> {
  await mkdir(join(dir, 'try-0f3a'), { recursive: true });
  await writeFile(join(dir, 'try-0f3a', '1795263642.90.mp3'), 'half an mp3');
  await writeFile(join(dir, 'try-0f3a', 'copy.part'), 'half a copy');
  await writeFile(join(dir, 'prepared-3-1795263642.90.mp3'), 'still pending');
  await writeFile(join(dir, 'prepared-4-1795263700.12.wav'), 'delivered before the crash');
  // The same seq for another call: seqs start again after a restart with an empty outbox.
  await writeFile(join(dir, 'prepared-3-1795263999.1.mp3'), 'another call');
  await writeFile(join(dir, 'b24-recording-abc'), 'anything else');
}

async function setUp(config: object, stateDir: string, pending = [{ seq: 3, key: '1795263642.90' }]) {
  const logger = memoryLogger();
  const rec = await setupRecordings({
    config: recordingsSchema.parse(config),
    stateDir,
    pendingAttachments: () => pending,
    client: { call: async <T>() => undefined as T },
    logger,
    lookupFfmpeg: async () => ({ problems: ['none'] }),
  });
  return { rec: rec!, logger };
}

describe('the recordings work dir', () => {
  it('lives under state.dir and loses at start everything but the prepared files of recordings still pending', async () => {
    const state = await tempDir('state-');
    await leftovers(join(state, 'recordings'));
    await writeFile(join(state, 'outbox.db'), 'not ours');
    const { rec, logger } = await setUp({}, state);
    expect(rec.workDir).toBe(join(state, 'recordings'));
    expect(await readdir(rec.workDir)).toEqual(['prepared-3-1795263642.90.mp3']);
    expect((await readdir(state)).sort()).toEqual(['outbox.db', 'recordings']);
    expect(logger.lines.find((l) => l.msg.includes('work dir cleared'))?.obj).toMatchObject({ removed: 4, kept: 1 });
  });

  it('with recordings.tmpDir set, owns only its own subdirectory there', async () => {
    const tmp = await tempDir('tmp-');
    await writeFile(join(tmp, 'someone-elses.wav'), 'not ours');
    await leftovers(join(tmp, 'asterisk-b24-bridge-recordings'));
    const { rec } = await setUp({ tmpDir: tmp }, await tempDir('state-'), []);
    expect(rec.workDir).toBe(join(tmp, 'asterisk-b24-bridge-recordings'));
    expect(await readdir(rec.workDir)).toEqual([]);
    expect((await readdir(tmp)).sort()).toEqual(['asterisk-b24-bridge-recordings', 'someone-elses.wav']);
  });

  it('creates nothing at start when there is nothing to clear', async () => {
    const state = await tempDir('state-');
    const { rec } = await setUp({}, state);
    expect(await readdir(state)).toEqual([]);
    expect(rec.workDir).toBe(join(state, 'recordings'));
  });

  it('logs a work dir it cannot clear and still starts (each recording then reports the problem)', async () => {
    const state = await tempDir('state-');
    // A file where the directory should be.
    await writeFile(join(state, 'recordings'), 'not a directory');
    const { rec, logger } = await setUp({}, state);
    expect(rec.attach).toBeTypeOf('function');
    expect(logger.lines.find((l) => l.level === 'error')?.msg).toMatch(/work dir could not be cleared/);
  });
});
