import { spawnSync } from 'node:child_process';

/**
 * The programs some tests run, and the Debian package .ci/run installs each from. A test that needs one calls
 * requireTool in a beforeAll: where the program is missing the test fails and says how to get it; it never skips.
 */
const PACKAGE = {
  python3: 'python3',
  'systemd-analyze': 'systemd',
  'systemd-notify': 'systemd',
  unshare: 'util-linux',
  nsenter: 'util-linux',
  newuidmap: 'uidmap',
  ffmpeg: 'ffmpeg',
} as const;

export type Tool = keyof typeof PACKAGE;

/** `args`: a run that must exit 0; 'on-path' for a program with no such run (newuidmap), which need only be found. */
export function requireTool(tool: Tool, args: string[] | 'on-path' = ['--version']): void {
  const res = args === 'on-path' ? spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }) : spawnSync(tool, args, { stdio: 'ignore' });
  if (res.error === undefined && res.status === 0) return;
  const why = res.error ? res.error.message : args === 'on-path' ? 'not on PATH' : `\`${tool} ${args.join(' ')}\` exited with ${res.status}`;
  throw new Error(`${tool} is needed by this test and is not usable here (${why}): .ci/run installs it with the Debian package ${PACKAGE[tool]} (apt-get install ${PACKAGE[tool]})`);
}
