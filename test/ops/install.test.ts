import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { tempDir } from '../support/tmp.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const INSTALL = join(REPO, 'scripts/install.sh');
const UNINSTALL = join(REPO, 'scripts/uninstall.sh');
const APP = 'opt/asterisk-b24-bridge';
const ETC = 'etc/asterisk-b24-bridge';
const STATE = 'var/lib/asterisk-b24-bridge';
const UNIT = 'etc/systemd/system/asterisk-b24-bridge.service';
const BIN = 'usr/local/bin/asterisk-b24-bridge';

const freshRoot = () => tempDir('b24bridge-destdir-');

/** Runs a script into a throwaway root; dependencies are skipped (no network in tests), everything else is real. */
function run(script: string, root: string, args: string[] = [], env: Record<string, string> = {}) {
  const res = spawnSync('bash', [script, ...args], { env: { ...process.env, DESTDIR: root, ...env }, encoding: 'utf8' });
  return { status: res.status, out: `${res.stdout}${res.stderr}` };
}
const install = (root: string, args: string[] = ['--node-modules=skip'], env: Record<string, string> = {}) => run(INSTALL, root, args, env);

/** Every path under root with its type, permission bits and (outside the app) size: what "nothing changed" means. */
function snapshot(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const st = statSync(path);
      const rel = relative(root, path);
      // Sizes of the app's own files follow the build, not the install; config and state must not change at all.
      const size = st.isDirectory() || rel.startsWith('opt/') ? '' : ` ${st.size}`;
      out.push(`${st.isDirectory() ? 'd' : 'f'} ${(st.mode & 0o7777).toString(8)} ${rel}${size}`);
      if (st.isDirectory()) walk(path);
    }
  };
  walk(root);
  return out;
}

const mode = (path: string) => (statSync(path).mode & 0o7777).toString(8);

describe('scripts/install.sh into a DESTDIR', () => {
  it('installs the app, the config from the example, the state dir and the unit with their modes', () => {
    expect(existsSync(join(REPO, 'dist/cli.js')), 'build first: npm run build').toBe(true);
    const root = freshRoot();
    const res = install(root);
    expect(res.status, res.out).toBe(0);

    expect(existsSync(join(root, APP, 'dist/cli.js'))).toBe(true);
    expect(readFileSync(join(root, APP, 'package.json'), 'utf8')).toBe(readFileSync(join(REPO, 'package.json'), 'utf8'));
    expect(readFileSync(join(root, ETC, 'config.yaml'), 'utf8')).toBe(readFileSync(join(REPO, 'config/example.yaml'), 'utf8'));
    expect(mode(join(root, ETC))).toBe('750');
    expect(mode(join(root, ETC, 'config.yaml'))).toBe('640');
    expect(mode(join(root, ETC, 'env'))).toBe('640');
    expect(mode(join(root, STATE))).toBe('750');
    expect(mode(join(root, UNIT))).toBe('644');
    expect(readFileSync(join(root, UNIT), 'utf8')).toBe(readFileSync(join(REPO, 'systemd/asterisk-b24-bridge.service'), 'utf8'));
    expect(mode(join(root, BIN))).toBe('755');
    expect(spawnSync('sh', ['-n', join(root, BIN)]).status).toBe(0);
    expect(res.out).toContain('DESTDIR set: not creating system user asterisk-b24-bridge');
    expect(res.out).toContain('not running systemctl (DESTDIR set)');
  });

  it('points the unit and the admin command at files the install created', () => {
    const root = freshRoot();
    expect(install(root).status).toBe(0);
    const execStart = /^ExecStart=(\S+) (\S+) run --config (\S+)$/m.exec(readFileSync(join(root, UNIT), 'utf8'));
    expect(execStart).not.toBeNull();
    expect(existsSync(join(root, execStart![2]!))).toBe(true);
    expect(existsSync(join(root, execStart![3]!))).toBe(true);
    const wrapper = readFileSync(join(root, BIN), 'utf8');
    expect(wrapper).toContain(`${execStart![1]} ${execStart![2]} "$@"`);
    expect(wrapper).toContain('runuser -u asterisk-b24-bridge');
  });

  it('installs a config the daemon accepts as it is', () => {
    const root = freshRoot();
    expect(install(root).status).toBe(0);
    expect(() => loadConfigFile(join(root, ETC, 'config.yaml'), {})).not.toThrow();
  });

  it('changes nothing when run a second time and never overwrites an edited config', () => {
    const root = freshRoot();
    expect(install(root).status).toBe(0);
    const edited = '# my portal\n' + readFileSync(join(root, ETC, 'config.yaml'), 'utf8');
    writeFileSync(join(root, ETC, 'config.yaml'), edited);
    writeFileSync(join(root, ETC, 'env'), 'B24BRIDGE_AMI_SECRET=mine\n');
    const before = snapshot(root);

    const again = install(root);
    expect(again.status, again.out).toBe(0);
    expect(again.out).toContain('keeping existing /etc/asterisk-b24-bridge/config.yaml');
    expect(snapshot(root)).toEqual(before);
    expect(readFileSync(join(root, ETC, 'config.yaml'), 'utf8')).toBe(edited);
    expect(readFileSync(join(root, ETC, 'env'), 'utf8')).toBe('B24BRIDGE_AMI_SECRET=mine\n');
  });

  it('replaces files of an older version instead of leaving them behind', () => {
    const root = freshRoot();
    expect(install(root).status).toBe(0);
    writeFileSync(join(root, APP, 'dist/removed-in-this-version.js'), '');
    expect(install(root).status).toBe(0);
    expect(existsSync(join(root, APP, 'dist/removed-in-this-version.js'))).toBe(false);
    expect(readdirSync(join(root, APP)).filter((n) => n.endsWith('.new') || n.endsWith('.old'))).toEqual([]);
  });

  it('writes the node it was given into ExecStart', () => {
    const root = freshRoot();
    // A node somewhere else than /usr/bin (e.g. /usr/local/bin from a tarball): a wrapper standing in for it.
    const node = join(root, 'usr/local/bin/node');
    spawnSync('mkdir', ['-p', join(root, 'usr/local/bin')]);
    writeFileSync(node, `#!/bin/sh\nexec '${process.execPath}' "$@"\n`, { mode: 0o755 });
    const res = install(root, ['--node-modules=skip'], { NODE_BIN: node });
    expect(res.status, res.out).toBe(0);
    const unit = readFileSync(join(root, UNIT), 'utf8');
    expect(unit).toContain(`\nExecStart=${node} /opt/asterisk-b24-bridge/dist/cli.js run --config /etc/asterisk-b24-bridge/config.yaml\n`);
  });

  it('refuses a node inside a home directory, which the unit cannot see', () => {
    const res = install(freshRoot(), ['--node-modules=skip'], { NODE_BIN: '/root/.nvm/versions/node/v20.0.0/bin/node' });
    expect(res.status).not.toBe(0);
    expect(res.out).toContain('ProtectHome=yes');
  });

  it('refuses an unknown option without touching anything', () => {
    const root = freshRoot();
    const res = install(root, ['--frobnicate']);
    expect(res.status).not.toBe(0);
    expect(res.out).toContain('unknown option: --frobnicate');
    expect(readdirSync(root)).toEqual([]);
  });
});

describe('scripts/uninstall.sh in a DESTDIR', () => {
  it('removes what install added but keeps the config and the state, and can run twice', () => {
    const root = freshRoot();
    expect(install(root).status).toBe(0);
    writeFileSync(join(root, STATE, 'outbox.db'), 'x');

    for (let i = 0; i < 2; i++) {
      const res = run(UNINSTALL, root);
      expect(res.status, res.out).toBe(0);
    }
    expect(existsSync(join(root, APP))).toBe(false);
    expect(existsSync(join(root, UNIT))).toBe(false);
    expect(existsSync(join(root, BIN))).toBe(false);
    expect(readFileSync(join(root, ETC, 'config.yaml'), 'utf8')).toBe(readFileSync(join(REPO, 'config/example.yaml'), 'utf8'));
    expect(existsSync(join(root, STATE, 'outbox.db'))).toBe(true);
  });

  it('removes the config, the state and unit drop-ins too with --purge', () => {
    const root = freshRoot();
    expect(install(root).status).toBe(0);
    const dropIn = join(root, `${UNIT}.d`);
    spawnSync('mkdir', ['-p', dropIn]);
    writeFileSync(join(dropIn, 'override.conf'), '[Service]\n');
    const res = run(UNINSTALL, root, ['--purge']);
    expect(res.status, res.out).toBe(0);
    for (const path of [APP, UNIT, BIN, ETC, STATE, `${UNIT}.d`]) expect(existsSync(join(root, path)), path).toBe(false);
    expect(res.out).toContain('DESTDIR set: not removing system user');
  });

  it('lets a reinstall after uninstall pick up the kept config', () => {
    const root = freshRoot();
    expect(install(root).status).toBe(0);
    writeFileSync(join(root, ETC, 'config.yaml'), '# kept\n');
    expect(run(UNINSTALL, root).status).toBe(0);
    expect(install(root).status).toBe(0);
    expect(readFileSync(join(root, ETC, 'config.yaml'), 'utf8')).toBe('# kept\n');
  });
});
