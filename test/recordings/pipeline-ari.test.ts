import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir, readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordingsSchema } from '../../src/config/recordings.js';
import { setupRecordings } from '../../src/recordings/setup.js';
import { attachEntry as entry, FFMPEG, FIXTURE_WAV, memoryLogger, startPortal, tempDir, type Portal } from './helpers.js';

let portal: Portal;
let tmp: string;
beforeEach(async () => {
  portal = await startPortal();
  tmp = await tempDir('tmp-');
});
afterEach(async () => portal.close());

describe('recordings fetched over ARI', () => {
  it('downloads the file from ARI, attaches the MP3 and deletes the stored recording when told to', async () => {
    const stored = new Map([['1795263642.90', await readFile(FIXTURE_WAV)]]);
    const server = createServer((req, res) => {
      const name = decodeURIComponent(/^\/ari\/recordings\/stored\/([^/]+)/.exec(req.url ?? '')?.[1] ?? '');
      const body = stored.get(name);
      if (!body) return void res.writeHead(404).end();
      if (req.method === 'DELETE') return void (stored.delete(name), res.writeHead(204).end());
      res.writeHead(200, { 'Content-Type': 'audio/wav' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const config = recordingsSchema.parse({ stableMs: 60, appearTimeoutMs: 300, tmpDir: tmp, keepOriginals: false, source: { type: 'ari' } });
      const rec = await setupRecordings({
        config,
        stateDir: tmp,
        ari: { url, username: 'bridge', password: 'pw' },
        client: portal.client,
        logger: memoryLogger(),
        lookupFfmpeg: async () => ({ ffmpeg: { source: 'path', path: FFMPEG, version: 'test' }, problems: [] }),
      });
      const callId = await portal.finishedCall();
      await rec!.attach(entry('/var/spool/asterisk/recording/1795263642.90.wav'), callId);
      expect(portal.emu.records[0]).toMatchObject({ callId, fileName: '1795263642.90.mp3' });
      expect(stored.size).toBe(0);
      expect(await readdir(rec!.workDir)).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('rejects with a retryable error while ARI is unreachable, so the outbox tries again later', async () => {
    const config = recordingsSchema.parse({ stableMs: 60, appearTimeoutMs: 300, tmpDir: tmp, source: { type: 'ari' } });
    const rec = await setupRecordings({
      config,
      stateDir: tmp,
      ari: { url: 'http://127.0.0.1:1', username: 'bridge', password: 'pw' },
      client: portal.client,
      logger: memoryLogger(),
      lookupFfmpeg: async () => ({ problems: ['none'] }),
    });
    await expect(rec!.attach(entry('/var/spool/asterisk/recording/x.wav'), await portal.finishedCall())).rejects.toMatchObject({
      name: 'BitrixError',
      kind: 'retryable',
      method: 'ari',
    });
    expect(await readdir(tmp)).toEqual([]);
    expect(rec!.workDir.startsWith(tmp)).toBe(true);
  });

  it('is not set up when recordings are disabled, and refuses ARI without credentials', async () => {
    const base = { stateDir: tmp, client: portal.client, logger: memoryLogger() };
    expect(await setupRecordings({ ...base, config: recordingsSchema.parse({ enabled: false }) })).toBeUndefined();
    await expect(setupRecordings({ ...base, config: recordingsSchema.parse({ source: { type: 'ari' } }) })).rejects.toThrow(/asterisk\.ari/);
  });
});
