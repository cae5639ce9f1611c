#!/usr/bin/env bash
# Installs (or upgrades) asterisk-b24-bridge from this source tree. Safe to run again: every step checks first,
# and an existing config is never overwritten.
#
#   sudo scripts/install.sh                     # install or upgrade on this host
#   DESTDIR=/tmp/root scripts/install.sh        # everything under /tmp/root; no users, no systemctl (CI, packaging)
#
# Options:
#   --node-modules=npm|copy|skip  production dependencies: `npm ci --omit=dev` in the app dir (default), copy this
#                                 tree's node_modules and prune dev ones (offline hosts), or leave them to you
#   --recordings-group=NAME       group that can read the recordings (default: owner group of
#                                 /var/spool/asterisk/monitor, else `asterisk` if it exists)
# Environment: DESTDIR (install root), NODE_BIN (node for ExecStart; default: `command -v node`).
# Build first: npm ci && npm run build.
set -euo pipefail
umask 022

NAME=asterisk-b24-bridge
SVC_USER=$NAME
SVC_GROUP=$NAME
APP=/opt/$NAME
ETC=/etc/$NAME
STATE=/var/lib/$NAME
UNIT_DIR=/etc/systemd/system
UNIT=$NAME.service
BIN_DIR=/usr/local/bin
RECORDINGS_DIR=/var/spool/asterisk/monitor

SRC=$(cd "$(dirname "$0")/.." && pwd)
# DESTDIR=/ is the real system, like an empty one.
D=${DESTDIR:-}
[ "$D" = "/" ] && D=""
NODE_MODULES=npm
REC_GROUP=""

log() { printf '%s: %s\n' "$NAME install" "$*"; }
die() { printf '%s: error: %s\n' "$NAME install" "$*" >&2; exit 1; }

for arg in "$@"; do
  case $arg in
    --node-modules=npm | --node-modules=copy | --node-modules=skip) NODE_MODULES=${arg#*=} ;;
    --recordings-group=?*) REC_GROUP=${arg#*=} ;;
    -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
    *) die "unknown option: $arg (see --help)" ;;
  esac
done

[ -f "$SRC/dist/cli.js" ] || die "$SRC/dist/cli.js is missing: run 'npm ci && npm run build' first"
if [ -z "$D" ] && [ "$(id -u)" != 0 ]; then die "run as root (or set DESTDIR to install into a directory)"; fi

# Ownership only means something on the real system; under DESTDIR files stay the caller's.
own() { if [ -z "$D" ]; then chown "$1" "$2"; fi; }

# --- Node ---------------------------------------------------------------------------------------------------------
NODE=${NODE_BIN:-}
if [ -z "$NODE" ] && [ -z "$D" ]; then NODE=$(command -v node || true); fi
if [ -n "$NODE" ]; then
  case $NODE in
    /home/* | /root/* | /run/user/*) die "$NODE is in a home directory, which the unit hides (ProtectHome=yes); install node system-wide (e.g. /usr/bin/node)" ;;
  esac
  major=$("$NODE" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  [ "$major" -ge 20 ] || die "$NODE is not Node.js 20 or newer"
elif [ -z "$D" ]; then
  die "node not found: install Node.js 20+ (e.g. from your distribution or NodeSource)"
fi

# --- Service user -------------------------------------------------------------------------------------------------
if [ -z "$REC_GROUP" ]; then
  if [ -d "$RECORDINGS_DIR" ]; then REC_GROUP=$(stat -c %G "$RECORDINGS_DIR");
  elif getent group asterisk >/dev/null 2>&1; then REC_GROUP=asterisk; fi
fi
if [ -n "$D" ]; then
  log "DESTDIR set: not creating system user $SVC_USER (group $SVC_GROUP${REC_GROUP:+, member of $REC_GROUP}); the real install does"
else
  getent group "$SVC_GROUP" >/dev/null || { groupadd --system "$SVC_GROUP"; log "created group $SVC_GROUP"; }
  if ! id -u "$SVC_USER" >/dev/null 2>&1; then
    nologin=$(command -v nologin || echo /usr/sbin/nologin)
    useradd --system --gid "$SVC_GROUP" --home-dir "$STATE" --no-create-home --shell "$nologin" --comment "$NAME daemon" "$SVC_USER"
    log "created user $SVC_USER"
  fi
  if [ -n "$REC_GROUP" ] && getent group "$REC_GROUP" >/dev/null; then
    # Reading recordings needs the group; usermod -a is a no-op when already a member.
    usermod -a -G "$REC_GROUP" "$SVC_USER"
    log "$SVC_USER is in group $REC_GROUP (reads $RECORDINGS_DIR)"
  else
    log "warning: no recordings group found; if recordings live elsewhere, rerun with --recordings-group=NAME"
  fi
fi

# --- Application: code owned by root, so the daemon cannot change what it runs ------------------------------------
install -d -m 0755 "$D$APP"
for dir in dist assets config docs systemd; do
  [ -d "$SRC/$dir" ] || continue
  # Replace, not merge: files removed upstream must not linger from an older version.
  rm -rf "$D$APP/$dir.new"
  cp -R "$SRC/$dir" "$D$APP/$dir.new"
  rm -rf "$D$APP/$dir.old"
  if [ -d "$D$APP/$dir" ]; then mv "$D$APP/$dir" "$D$APP/$dir.old"; fi
  mv "$D$APP/$dir.new" "$D$APP/$dir"
  rm -rf "$D$APP/$dir.old"
done
for file in package.json package-lock.json README.md LICENSE; do
  if [ -f "$SRC/$file" ]; then install -m 0644 "$SRC/$file" "$D$APP/$file"; fi
done

case $NODE_MODULES in
  npm)
    command -v npm >/dev/null || die "npm not found; use --node-modules=copy or --node-modules=skip"
    log "installing production dependencies (npm ci --omit=dev) in $D$APP"
    (cd "$D$APP" && npm ci --omit=dev --no-audit --no-fund --loglevel=error)
    ;;
  copy)
    [ -d "$SRC/node_modules" ] || die "$SRC/node_modules is missing: run npm ci first"
    rm -rf "$D$APP/node_modules"
    cp -R "$SRC/node_modules" "$D$APP/node_modules"
    (cd "$D$APP" && npm prune --omit=dev --no-audit --no-fund --loglevel=error)
    ;;
  skip)
    log "skipping dependencies: run 'cd $APP && npm ci --omit=dev' before starting the service"
    ;;
esac

# --- Config: created once from the example, never overwritten -----------------------------------------------------
install -d -m 0750 "$D$ETC"
own "root:$SVC_GROUP" "$D$ETC"
# The newest example sits next to the config, to compare with after an upgrade.
install -m 0640 "$SRC/config/example.yaml" "$D$ETC/config.yaml.example"
own "root:$SVC_GROUP" "$D$ETC/config.yaml.example"
if [ -e "$D$ETC/config.yaml" ]; then
  log "keeping existing $ETC/config.yaml (new defaults: $ETC/config.yaml.example)"
else
  install -m 0640 "$SRC/config/example.yaml" "$D$ETC/config.yaml"
  own "root:$SVC_GROUP" "$D$ETC/config.yaml"
  log "created $ETC/config.yaml: edit it before starting the service"
fi
if [ ! -e "$D$ETC/env" ]; then
  # Secrets may live here instead of config.yaml (the unit reads it with EnvironmentFile=).
  (umask 027 && cat >"$D$ETC/env" <<'EOF'
# Secrets for asterisk-b24-bridge, read by systemd (EnvironmentFile=). They override config.yaml.
#B24BRIDGE_AMI_SECRET=
#B24BRIDGE_WEBHOOK_URL=https://PORTAL.bitrix24.ru/rest/1/CODE/
#B24BRIDGE_APPLICATION_TOKEN=
#B24BRIDGE_ARI_PASSWORD=
EOF
  )
  chmod 0640 "$D$ETC/env"
  own "root:$SVC_GROUP" "$D$ETC/env"
fi

# --- State --------------------------------------------------------------------------------------------------------
install -d -m 0750 "$D$STATE"
own "$SVC_USER:$SVC_GROUP" "$D$STATE"

# --- Command for admins: the CLI as the service user, with the service's secrets ---------------------------------
# Run as root, `check` or `parked` would otherwise create root-owned files in the state dir or miss the env secrets.
install -d -m 0755 "$D$BIN_DIR"
cat >"$D$BIN_DIR/$NAME.tmp" <<WRAPPER
#!/bin/sh
# Installed by $NAME scripts/install.sh: runs the CLI like the service does (same user, same secrets).
set -e
if [ "\$(id -u)" = 0 ]; then exec runuser -u $SVC_USER -- "\$0" "\$@"; fi
set -a
if [ -r $ETC/env ]; then . $ETC/env; fi
set +a
exec ${NODE:-/usr/bin/node} $APP/dist/cli.js "\$@"
WRAPPER
chmod 0755 "$D$BIN_DIR/$NAME.tmp"
mv "$D$BIN_DIR/$NAME.tmp" "$D$BIN_DIR/$NAME"

# --- Unit ---------------------------------------------------------------------------------------------------------
install -d -m 0755 "$D$UNIT_DIR"
unit_tmp=$(mktemp)
trap 'rm -f "$unit_tmp"' EXIT
if [ -n "$NODE" ] && [ "$NODE" != /usr/bin/node ]; then
  sed "s#^ExecStart=/usr/bin/node #ExecStart=$NODE #" "$SRC/systemd/$UNIT" >"$unit_tmp"
  log "ExecStart uses $NODE"
else
  cp "$SRC/systemd/$UNIT" "$unit_tmp"
fi
install -m 0644 "$unit_tmp" "$D$UNIT_DIR/$UNIT"

if [ -z "$D" ] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable "$UNIT" >/dev/null
  if systemctl is-active --quiet "$UNIT"; then
    systemctl restart "$UNIT"
    log "upgraded and restarted $UNIT"
  else
    log "enabled $UNIT; start it with: systemctl start $NAME (after editing $ETC/config.yaml)"
  fi
else
  if [ -n "$D" ]; then why="DESTDIR set"; else why="systemd is not running"; fi
  log "not running systemctl ($why); on the host: systemctl daemon-reload && systemctl enable $NAME"
fi
log "done"
