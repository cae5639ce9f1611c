import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { recordingsSchema } from '../../src/config/recordings.js';
import { checkRecordings } from '../../src/recordings/check.js';
import { FFMPEG, tempDir } from './helpers.js';

const found = async () => ({ ffmpeg: { source: 'path' as const, path: FFMPEG, version: '5.1' }, problems: [] });
const none = async () => ({ problems: ['path: no ffmpeg on PATH', 'npm: @ffmpeg-installer/ffmpeg is not installed'] });

describe('the recordings lines of `check`', () => {
  it('says recordings are disabled and checks nothing else', async () => {
    expect(await checkRecordings(recordingsSchema.parse({ enabled: false }), undefined)).toEqual([{ ok: true, line: 'PASS recordings: disabled' }]);
  });

  it('names the ffmpeg in use, the source and the temp directory', async () => {
    const lines = await checkRecordings(recordingsSchema.parse({ tmpDir: await tempDir() }), undefined, { lookupFfmpeg: found });
    expect(lines.map((l) => l.ok)).toEqual([true, true, true]);
    expect(lines[0]!.line).toBe(`PASS ffmpeg: ${FFMPEG} (from system PATH), version 5.1`);
  });

  it('names the work dir under state.dir when tmpDir is not set', async () => {
    const lines = await checkRecordings(recordingsSchema.parse({}), undefined, { lookupFfmpeg: found, stateDir: '/var/lib/asterisk-b24-bridge' });
    expect(lines[2]).toEqual({ ok: true, line: 'PASS recordings tmpDir: not set; work files go to /var/lib/asterisk-b24-bridge/recordings' });
  });

  it('fails on a missing ffmpeg, an unreadable mount and a temp directory that does not exist', async () => {
    const config = recordingsSchema.parse({ tmpDir: '/nonexistent/tmp', source: { type: 'mount', rewrite: { from: '/var/spool/asterisk/monitor', to: '/nonexistent/pbx' } } });
    const lines = await checkRecordings(config, undefined, { lookupFfmpeg: none });
    expect(lines.map((l) => l.ok)).toEqual([false, false, false]);
    expect(lines[1]!.line).toMatch(/^FAIL recordings source: \/nonexistent\/pbx is not readable/);
  });

  it('lists ARI stored recordings with the configured credentials, and fails without credentials', async () => {
    const server = createServer((req, res) => {
      const ok = req.headers.authorization === `Basic ${Buffer.from('bridge:pw').toString('base64')}`;
      res.writeHead(ok ? 200 : 401, { 'Content-Type': 'application/json' }).end(ok ? '[{"name":"a","format":"wav"}]' : '{"error":"Authentication required"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const config = recordingsSchema.parse({ tmpDir: await tempDir(), source: { type: 'ari' } });
      const good = await checkRecordings(config, { url, username: 'bridge', password: 'pw' }, { lookupFfmpeg: found });
      expect(good[1]).toEqual({ ok: true, line: `PASS recordings source: ARI at ${url}/ari lists 1 stored recordings` });
      const bad = await checkRecordings(config, { url, username: 'bridge', password: 'nope' }, { lookupFfmpeg: found });
      expect(bad[1]).toEqual({ ok: false, line: `FAIL recordings source: ARI at ${url}/ari answered HTTP 401` });
      const missing = await checkRecordings(config, undefined, { lookupFfmpeg: found });
      expect(missing).toEqual([{ ok: false, line: 'FAIL recordings: recordings.source.type "ari" needs asterisk.ari { url, username, password }' }]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
