import { constants, accessSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { AmiConnection } from '../ami/connection.js';
import { ConfigError, loadConfigFile } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { checkRecordings } from '../recordings/check.js';
import { checkPortal } from './check-portal.js';

type Env = Record<string, string | undefined>;

/** The `check` command: one line per item, PASS or FAIL with the reason. Returns true when all pass. */
export async function runCheck(file: string, env: Env, print: (line: string) => void): Promise<boolean> {
  let config: Config;
  try {
    config = loadConfigFile(file, env);
    print(`PASS config: ${file} is valid`);
  } catch (err) {
    print(`FAIL config: ${err instanceof ConfigError ? err.message : String(err)}`);
    return false;
  }
  const [ami, portal] = await Promise.all([checkAmi(config), checkPortal(config)]);
  const results = [ami, ...portal, checkStateDir(config.state.dir)];
  if (config.recordings.enabled) results.push(...(await checkRecordings(config.recordings, config.asterisk.ari, { stateDir: config.state.dir })));
  for (const r of results) print(r.line);
  return results.every((r) => r.ok);
}

async function checkAmi(config: Config): Promise<{ ok: boolean; line: string }> {
  const a = config.asterisk.ami;
  const ami = new AmiConnection({ host: a.host, port: a.port, username: a.username, secret: a.secret, connectTimeoutMs: 5000, reconnect: { initialDelayMs: 60_000, maxDelayMs: 60_000 } });
  try {
    let banner = '';
    ami.once('connected', (info) => (banner = info.banner));
    await ami.connect();
    await ami.close();
    return { ok: true, line: `PASS ami: logged in to ${a.host}:${a.port} as ${a.username} (${banner})` };
  } catch (err) {
    await ami.close().catch(() => undefined);
    return { ok: false, line: `FAIL ami: ${a.host}:${a.port} as ${a.username}: ${(err as Error).message}` };
  }
}

/** The state directory (or the nearest existing parent it would be created in) must be writable. */
export function checkStateDir(dir: string, access: (path: string, mode: number) => void = accessSync): { ok: boolean; line: string } {
  let probe = dir;
  while (!existsSync(probe) && dirname(probe) !== probe) probe = dirname(probe);
  try {
    access(probe, constants.W_OK);
    const what = probe === dir ? 'is writable' : `does not exist yet; ${probe} lets it be created`;
    return { ok: true, line: `PASS state: ${dir} ${what} (checked as the user running check; the service needs the same)` };
  } catch (err) {
    return { ok: false, line: `FAIL state: ${dir}: ${probe} is not writable (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
  }
}
