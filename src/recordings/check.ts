import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { recordingsConfigProblems, type RecordingsConfig } from '../config/recordings.js';
import { ariBase, type AriCredentials } from './ari.js';
import { ffmpegCheckLine, findFfmpeg, type FfmpegLookup } from './ffmpeg.js';
import { workDirFor } from './workdir.js';

/** The recordings lines of the `check` command: which ffmpeg, and whether the recordings source is reachable. */

export interface CheckLine {
  ok: boolean;
  line: string;
}

export interface CheckRecordingsOptions {
  lookupFfmpeg?: () => Promise<FfmpegLookup>;
  fetch?: typeof fetch;
  /** `state.dir`, where the work dir goes when recordings.tmpDir is unset. */
  stateDir?: string;
}

export async function checkRecordings(config: RecordingsConfig, ari: AriCredentials | undefined, opts: CheckRecordingsOptions = {}): Promise<CheckLine[]> {
  if (!config.enabled) return [{ ok: true, line: 'PASS recordings: disabled' }];
  const problems = recordingsConfigProblems(config, ari);
  if (problems.length > 0) return problems.map((p) => ({ ok: false, line: `FAIL recordings: ${p}` }));
  const lookup = opts.lookupFfmpeg ?? (() => findFfmpeg(config.ffmpegPath === undefined ? {} : { configPath: config.ffmpegPath }));
  const [ffmpeg, source, tmp] = await Promise.all([lookup().then(ffmpegCheckLine), checkSource(config, ari, opts.fetch ?? fetch), checkTmpDir(config.tmpDir, opts.stateDir)]);
  return [ffmpeg, source, tmp];
}

async function checkSource(config: RecordingsConfig, ari: AriCredentials | undefined, http: typeof fetch): Promise<CheckLine> {
  const s = config.source;
  if (s.type === 'local') return { ok: true, line: 'PASS recordings source: files are read where Asterisk writes them (same host)' };
  if (s.type === 'mount') {
    const dir = s.rewrite?.to ?? '';
    try {
      await access(dir, constants.R_OK | constants.X_OK);
      return { ok: true, line: `PASS recordings source: ${dir} is readable (Asterisk's ${s.rewrite?.from ?? ''})` };
    } catch (err) {
      return { ok: false, line: `FAIL recordings source: ${dir} is not readable: ${(err as Error).message}` };
    }
  }
  const creds = ari;
  if (!creds) return { ok: false, line: 'FAIL recordings source: ARI needs asterisk.ari' };
  const url = `${ariBase(creds.url)}/recordings/stored`;
  try {
    const auth = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    const response = await http(url, { headers: { Authorization: auth }, signal: AbortSignal.timeout(10_000) });
    const body: unknown = await response.json().catch(() => undefined);
    if (response.status === 200 && Array.isArray(body)) {
      return { ok: true, line: `PASS recordings source: ARI at ${ariBase(creds.url)} lists ${body.length} stored recordings` };
    }
    return { ok: false, line: `FAIL recordings source: ARI at ${ariBase(creds.url)} answered HTTP ${response.status}` };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return { ok: false, line: `FAIL recordings source: ARI at ${ariBase(creds.url)}: ${cause ?? (err as Error).message}` };
  }
}

async function checkTmpDir(dir: string | undefined, stateDir: string | undefined): Promise<CheckLine> {
  if (dir === undefined) {
    // The state dir is the daemon's own (systemd creates it); the work dir inside it is created on first use.
    return { ok: true, line: `PASS recordings tmpDir: not set; work files go to ${stateDir === undefined ? 'state.dir' : workDirFor(undefined, stateDir)}` };
  }
  try {
    await access(dir, constants.W_OK | constants.X_OK);
    return { ok: true, line: `PASS recordings tmpDir: ${dir} is writable` };
  } catch (err) {
    return { ok: false, line: `FAIL recordings tmpDir: ${dir} is not writable: ${(err as Error).message}` };
  }
}
