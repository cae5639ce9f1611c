import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/**
 * Finds the ffmpeg binary, in the order an admin expects: the configured path (authoritative: when it is
 * set and broken we say so instead of quietly using another ffmpeg), the system PATH, then the optional
 * npm package @ffmpeg-installer/ffmpeg, which ships a static build.
 */

export type FfmpegSource = 'config' | 'path' | 'npm';

export interface FfmpegInfo {
  source: FfmpegSource;
  path: string;
  version: string;
}

export interface FfmpegLookup {
  ffmpeg?: FfmpegInfo;
  /** Why each candidate was rejected, for `check` and the startup log. */
  problems: string[];
}

export interface FindFfmpegOptions {
  configPath?: string;
  env?: NodeJS.ProcessEnv;
  /** `ffmpeg -version`'s version string; throws when the binary does not run. */
  probeVersion?: (path: string) => Promise<string>;
  /** Loads the npm package; throws when it is not installed. */
  importPackage?: () => Promise<unknown>;
}

const PACKAGE = '@ffmpeg-installer/ffmpeg';

export async function findFfmpeg(opts: FindFfmpegOptions = {}): Promise<FfmpegLookup> {
  const probe = opts.probeVersion ?? ffmpegVersion;
  const problems: string[] = [];
  const attempt = async (source: FfmpegSource, path: string): Promise<FfmpegLookup | undefined> => {
    try {
      return { ffmpeg: { source, path, version: await probe(path) }, problems };
    } catch (err) {
      problems.push(`${source} ${path}: ${(err as Error).message}`);
      return undefined;
    }
  };

  if (opts.configPath !== undefined) return (await attempt('config', opts.configPath)) ?? { problems };

  const onPath = await findExecutable('ffmpeg', opts.env ?? process.env);
  if (onPath) {
    const found = await attempt('path', onPath);
    if (found) return found;
  } else problems.push('path: no ffmpeg on PATH');

  let packagePath: string | undefined;
  try {
    packagePath = packageBinary(await (opts.importPackage ?? importOptional)());
  } catch {
    problems.push(`npm: ${PACKAGE} is not installed`);
  }
  if (packagePath) return (await attempt('npm', packagePath)) ?? { problems };
  return { problems };
}

/** The first executable `name` in PATH, or undefined. */
export async function findExecutable(name: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Runs `ffmpeg -version` and returns the version word of its first line. */
export function ffmpegVersion(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(path, ['-hide_banner', '-version'], { timeout: 10_000 }, (err, stdout) => {
      if (err) return reject(new Error((err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : err.message));
      const version = /ffmpeg version (\S+)/.exec(stdout)?.[1];
      if (!version) return reject(new Error('not an ffmpeg binary (no "ffmpeg version" in -version output)'));
      resolve(version);
    });
  });
}

/** One line for the `check` command. A missing ffmpeg is not fatal: WAVs are then attached as they are. */
export function ffmpegCheckLine(lookup: FfmpegLookup): { ok: boolean; line: string } {
  const labels: Record<FfmpegSource, string> = { config: 'recordings.ffmpegPath', path: 'system PATH', npm: `npm ${PACKAGE}` };
  if (lookup.ffmpeg) {
    const { source, path, version } = lookup.ffmpeg;
    return { ok: true, line: `PASS ffmpeg: ${path} (from ${labels[source]}), version ${version}` };
  }
  return { ok: false, line: `FAIL ffmpeg: not usable (${lookup.problems.join('; ')}); recordings would be attached as WAV, untranscoded` };
}

async function importOptional(): Promise<unknown> {
  // A variable specifier: the package is optional, neither TypeScript nor a bundler may require it.
  const specifier: string = PACKAGE;
  return import(specifier);
}

function packageBinary(mod: unknown): string | undefined {
  const pick = (m: unknown): unknown => (m as { path?: unknown } | undefined)?.path;
  const path = pick(mod) ?? pick((mod as { default?: unknown } | undefined)?.default);
  return typeof path === 'string' ? path : undefined;
}
