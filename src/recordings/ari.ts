import { createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import type { LocatedRecording } from './locate.js';

/**
 * Recordings fetched over ARI (`GET /ari/recordings/stored/{name}/file`, Asterisk 16+) when the daemon
 * runs on another host. ARI serves only Asterisk's recording directory (astspooldir/recording), so
 * MixMonitor must write there. Asterisk sends the whole file (no HEAD, no ranges), so "is it stable"
 * is answered by downloading it: the download that matched the previous size is the one attached.
 */

export interface AriCredentials {
  url: string;
  username: string;
  password: string;
}

export interface AriSourceOptions {
  ari: AriCredentials;
  timeoutMs: number;
  fetch?: typeof fetch;
}

/** An ARI request failed in a way a later attempt may not (network, timeout, 5xx). */
export class AriUnavailableError extends Error {
  override readonly name = 'AriUnavailableError';
}

/** ARI refused us (401/403): fix asterisk.ari credentials or ari.conf. */
export class AriRefusedError extends Error {
  override readonly name = 'AriRefusedError';
}

/** `http://pbx:8088` or `http://pbx:8088/ari` both mean the same ARI root. */
export function ariBase(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return trimmed.endsWith('/ari') ? trimmed : `${trimmed}/ari`;
}

export function createAriSource(opts: AriSourceOptions): { open(name: string, workDir: string): LocatedRecording } {
  const http = opts.fetch ?? fetch;
  const auth = `Basic ${Buffer.from(`${opts.ari.username}:${opts.ari.password}`).toString('base64')}`;
  // A name with subdirectories is one path segment in ARI's URL: its slashes are encoded.
  const recordingUrl = (name: string) => `${ariBase(opts.ari.url)}/recordings/stored/${encodeURIComponent(name)}`;

  async function request(url: string, method: 'GET' | 'DELETE'): Promise<Response> {
    let response: Response;
    try {
      response = await http(url, { method, headers: { Authorization: auth }, redirect: 'manual', signal: AbortSignal.timeout(opts.timeoutMs) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      throw new AriUnavailableError(`ARI ${method} failed: ${cause ?? (err as Error).message}`);
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new AriRefusedError(`ARI answered ${response.status}: check asterisk.ari username/password and ari.conf`);
    }
    return response;
  }

  return {
    open(name, workDir) {
      const where = `ARI stored recording ${name}`;
      const file = join(workDir, 'ari-download');
      let downloaded: number | undefined;
      return {
        where,
        async size() {
          const response = await request(`${recordingUrl(name)}/file`, 'GET');
          if (response.status === 404) {
            await response.body?.cancel();
            downloaded = undefined;
            return undefined;
          }
          if (response.status !== 200 || !response.body) {
            await response.body?.cancel();
            throw new AriUnavailableError(`ARI answered ${response.status} for ${where}`);
          }
          try {
            await mkdir(workDir, { recursive: true });
            await pipeline(Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>), createWriteStream(file));
          } catch (err) {
            await rm(file, { force: true });
            throw new AriUnavailableError(`ARI download of ${name} broke off: ${(err as Error).message}`);
          }
          downloaded = (await stat(file)).size;
          return downloaded;
        },
        async localPath() {
          if (downloaded === undefined) await this.size();
          if (downloaded === undefined) throw new AriUnavailableError(`${where} disappeared`);
          return file;
        },
        async removeOriginal() {
          const response = await request(recordingUrl(name), 'DELETE');
          await response.body?.cancel();
          if (response.status >= 300 && response.status !== 404) throw new AriUnavailableError(`ARI DELETE answered ${response.status}`);
        },
      };
    },
  };
}
