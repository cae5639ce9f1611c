import { spawnSync } from 'node:child_process';
import { userInfo } from 'node:os';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/tmp.js';
import { requireTool } from '../support/tools.js';

/**
 * scripts/install.sh and uninstall.sh as on a real host (no DESTDIR): the system user and group, the recordings
 * group, ownership. Run in a private mount namespace whose /etc, /opt, /var/lib, /var/log, /var/spool and
 * /usr/local/bin are throwaway copies, so the host's accounts and files are never touched.
 *
 * As root (CI) that is a mount namespace (`unshare --mount`). As another user it is a user namespace as well, where
 * that user is root and its subordinate ids (/etc/subuid, mapped by newuidmap) stand for the accounts the script
 * makes (`unshare --user --map-root-user --map-auto --mount`); the /etc copy then lacks the files only root can
 * read (the shadow files), which are made anew from the copied passwd and group.
 */

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const asRoot = process.getuid?.() === 0;

/** The namespace to run in, or why there is none for this user. */
function namespace(): string[] {
  if (asRoot) return ['--mount', '--propagation', 'private'];
  requireTool('newuidmap', 'on-path');
  return ['--user', '--map-root-user', '--map-auto', '--mount', '--propagation', 'private'];
}

beforeAll(() => {
  requireTool('unshare');
  const probe = spawnSync('unshare', [...namespace(), 'true'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(
      asRoot
        ? `unshare --mount failed: ${probe.stderr.trim()}`
        : `unshare --user --map-auto failed for ${userInfo().username}: ${probe.stderr.trim()}; the user needs a subordinate id range in /etc/subuid and /etc/subgid (usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${userInfo().username}), or run this test as root as CI does`,
    );
  }
});

/** The /etc copy without root: what cannot be read is left out, and the shadow files are made from passwd and group. */
const COPY_ETC_UNPRIVILEGED = String.raw`cp -a /etc "$T/etc" 2>/dev/null || true
[ -s "$T/etc/shadow" ] || sed 's/^\([^:]*\):.*/\1:*::0:99999:7:::/' "$T/etc/passwd" > "$T/etc/shadow"
[ -s "$T/etc/gshadow" ] || sed 's/^\([^:]*\):.*/\1:!::/' "$T/etc/group" > "$T/etc/gshadow"`;

/** Runs `steps` (bash) as root in the throwaway system; its stdout is returned, a failure throws with the output. */
function inThrowawaySystem(steps: string): string {
  const t = tempDir('b24bridge-system-');
  const script = `
set -euo pipefail
T=${t}
# Removed from inside: without root, only the namespace's root may delete what the script made as other users.
trap 'rm -rf "$T/etc" "$T/opt" "$T/varlib" "$T/varlog" "$T/spool" "$T/bin"' EXIT
${asRoot ? 'cp -a /etc "$T/etc"' : COPY_ETC_UNPRIVILEGED}
mkdir -p "$T/opt" "$T/varlib" "$T/varlog" "$T/spool" "$T/bin"
mount --bind "$T/etc" /etc
mount --bind "$T/opt" /opt
mount --bind "$T/varlib" /var/lib
mount --bind "$T/varlog" /var/log
mkdir -p /var/spool && mount --bind "$T/spool" /var/spool
mount --bind "$T/bin" /usr/local/bin
cd ${REPO}
${steps}
`;
  const res = spawnSync('unshare', [...namespace(), 'bash', '-c', script], { encoding: 'utf8', env: { ...process.env, NODE_BIN: '/usr/bin/node' } });
  if (res.status !== 0) throw new Error(`exit ${res.status}\n${res.stdout}\n${res.stderr}`);
  return res.stdout;
}

const field = (out: string, name: string) => new RegExp(`^${name}=(.*)$`, 'm').exec(out)?.[1];

describe('scripts/install.sh on a real (throwaway) system', () => {
  it("creates the service user in the recordings group, owns config and state right, and a second run keeps the admin's config and makes no second user", () => {
    const out = inThrowawaySystem(`
groupadd --system asterisk
mkdir -p /var/spool/asterisk/monitor && chgrp asterisk /var/spool/asterisk/monitor
scripts/install.sh --node-modules=skip > /dev/null
echo 'bitrix: { defaultUserId: 7 }  # edited by the admin' >> /etc/asterisk-b24-bridge/config.yaml
scripts/install.sh --node-modules=skip > /dev/null
echo "passwd=$(getent passwd asterisk-b24-bridge | cut -d: -f6,7)"
echo "users=$(getent passwd | grep -c '^asterisk-b24-bridge:')"
echo "groups=$(id -nG asterisk-b24-bridge)"
echo "config=$(stat -c '%U:%G %a' /etc/asterisk-b24-bridge/config.yaml)"
echo "etc=$(stat -c '%U:%G %a' /etc/asterisk-b24-bridge)"
echo "state=$(stat -c '%U:%G %a' /var/lib/asterisk-b24-bridge)"
echo "edited=$(grep -c 'edited by the admin' /etc/asterisk-b24-bridge/config.yaml)"
echo "unit=$(grep '^ExecStart=' /etc/systemd/system/asterisk-b24-bridge.service)"
echo "app=$(test -f /opt/asterisk-b24-bridge/dist/cli.js && echo yes)"
`);
    expect(field(out, 'passwd')).toMatch(/^\/var\/lib\/asterisk-b24-bridge:\/(usr\/)?s?bin\/(nologin|false)$/);
    expect(field(out, 'users')).toBe('1');
    expect(field(out, 'groups')!.split(' ').sort()).toEqual(['asterisk', 'asterisk-b24-bridge']);
    expect(field(out, 'config')).toBe('root:asterisk-b24-bridge 640');
    expect(field(out, 'etc')).toBe('root:asterisk-b24-bridge 750');
    expect(field(out, 'state')).toBe('asterisk-b24-bridge:asterisk-b24-bridge 750');
    expect(field(out, 'edited')).toBe('1');
    expect(field(out, 'unit')).toBe('ExecStart=/usr/bin/node /opt/asterisk-b24-bridge/dist/cli.js run --config /etc/asterisk-b24-bridge/config.yaml');
    expect(field(out, 'app')).toBe('yes');
  });

  it('uninstalls keeping config, state and user, and --purge removes those too', () => {
    const out = inThrowawaySystem(`
scripts/install.sh --node-modules=skip > /dev/null
scripts/uninstall.sh > /dev/null
echo "kept=$(test -f /etc/asterisk-b24-bridge/config.yaml && test -d /var/lib/asterisk-b24-bridge && id -u asterisk-b24-bridge > /dev/null && echo yes)"
echo "app=$(test -e /opt/asterisk-b24-bridge || test -e /etc/systemd/system/asterisk-b24-bridge.service || echo gone)"
scripts/uninstall.sh --purge > /dev/null
echo "purged=$(test -e /etc/asterisk-b24-bridge || test -e /var/lib/asterisk-b24-bridge || getent passwd asterisk-b24-bridge || getent group asterisk-b24-bridge || echo yes)"
`);
    expect(field(out, 'kept')).toBe('yes');
    expect(field(out, 'app')).toBe('gone');
    expect(field(out, 'purged')).toBe('yes');
  });
});
