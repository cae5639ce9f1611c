import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ariBase } from '../../src/recordings/ari.js';
import { createLocator, rewritePath, storedRecordingName, UnlocatableError } from '../../src/recordings/locate.js';
import { sineWav, tempDir } from './helpers.js';

describe('turning the Asterisk path into a local file', () => {
  it('reads the path as it is on the PBX host itself', async () => {
    const dir = await tempDir();
    const path = join(dir, 'a.wav');
    const located = createLocator({ type: 'local' })(path, dir);
    expect(await located.size()).toBeUndefined();
    await writeFile(path, sineWav(0.1));
    expect(await located.size()).toBe(1644);
    expect(await located.localPath()).toBe(path);
    await located.removeOriginal();
    await expect(stat(path)).rejects.toThrow();
  });

  it('rewrites the spool directory to where it is mounted, on whole path segments only', () => {
    const rewrite = { from: '/var/spool/asterisk/monitor', to: '/mnt/pbx/monitor' };
    expect(rewritePath('/var/spool/asterisk/monitor/2026/1795.90.wav', rewrite)).toBe('/mnt/pbx/monitor/2026/1795.90.wav');
    expect(() => rewritePath('/var/spool/asterisk/monitor2/x.wav', rewrite)).toThrow(UnlocatableError);
    expect(() => rewritePath('/var/spool/asterisk/monitor/../../../../etc/passwd', rewrite)).toThrow(UnlocatableError);
    expect(() => createLocator({ type: 'mount', rewrite })('/etc/passwd', '/tmp')).toThrow(UnlocatableError);
  });

  it('refuses a relative path', () => {
    expect(() => createLocator({ type: 'local' })('1795.90.wav', '/tmp')).toThrow(UnlocatableError);
  });

  it('names an ARI stored recording by its path under the recording directory, without extension', () => {
    const dir = '/var/spool/asterisk/recording';
    expect(storedRecordingName('/var/spool/asterisk/recording/1795263642.90.wav', dir)).toBe('1795263642.90');
    expect(storedRecordingName('/var/spool/asterisk/recording/queue/1795263642.90.wav', `${dir}/`)).toBe('queue/1795263642.90');
    expect(() => storedRecordingName('/var/spool/asterisk/monitor/1795263642.90.wav', dir)).toThrow(/make MixMonitor write there/);
  });

  it('accepts the ARI url with or without /ari', () => {
    expect(ariBase('http://pbx:8088')).toBe('http://pbx:8088/ari');
    expect(ariBase('http://pbx:8088/ari/')).toBe('http://pbx:8088/ari');
  });
});

describe('fetching a recording over ARI', () => {
  let server: Server;
  let url: string;
  const files = new Map<string, Buffer>();
  const seen: Array<{ method: string; url: string; auth: string | undefined }> = [];

  beforeEach(async () => {
    files.clear();
    seen.length = 0;
    // The part of Asterisk's ARI the daemon uses: GET …/file and DELETE, behind basic auth.
    server = createServer((req, res) => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization });
      if (req.headers.authorization !== `Basic ${Buffer.from('bridge:s3cret').toString('base64')}`) return void res.writeHead(401).end();
      const m = /^\/ari\/recordings\/stored\/([^/]+)(\/file)?$/.exec(req.url ?? '');
      const name = m ? decodeURIComponent(m[1]!) : '';
      const body = files.get(name);
      if (!m || !body) return void res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"message":"Recording not found"}');
      if (req.method === 'DELETE') {
        files.delete(name);
        return void res.writeHead(204).end();
      }
      res.writeHead(200, { 'Content-Type': 'audio/wav' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => new Promise<void>((resolve) => server.close(() => resolve())));

  const locator = (password = 's3cret') =>
    createLocator({ type: 'ari', recordingDir: '/var/spool/asterisk/recording', ari: { url, username: 'bridge', password }, timeoutMs: 5000 });

  it('downloads the file with basic auth into the work directory, and deletes the original on request', async () => {
    const work = await tempDir();
    const wav = sineWav(0.5);
    const located = locator()('/var/spool/asterisk/recording/queue/1795.90.wav', work);
    expect(await located.size()).toBeUndefined();
    files.set('queue/1795.90', wav);
    expect(await located.size()).toBe(wav.length);
    const local = await located.localPath();
    expect(local.startsWith(work)).toBe(true);
    expect(await readFile(local)).toEqual(wav);
    expect(seen.at(-1)!.url).toBe('/ari/recordings/stored/queue%2F1795.90/file');
    await located.removeOriginal();
    expect(files.has('queue/1795.90')).toBe(false);
    expect(seen.at(-1)!.method).toBe('DELETE');
  });

  it('says so when ARI refuses the credentials', async () => {
    const located = locator('wrong')('/var/spool/asterisk/recording/x.wav', await tempDir());
    await expect(located.size()).rejects.toThrow(/asterisk\.ari username\/password/);
  });

  it('reports an unreachable ARI as a failure worth retrying', async () => {
    const located = createLocator({
      type: 'ari',
      recordingDir: '/var/spool/asterisk/recording',
      ari: { url: 'http://127.0.0.1:1', username: 'bridge', password: 's3cret' },
      timeoutMs: 5000,
    })('/var/spool/asterisk/recording/x.wav', await tempDir());
    await expect(located.size()).rejects.toMatchObject({ name: 'AriUnavailableError' });
  });
});
