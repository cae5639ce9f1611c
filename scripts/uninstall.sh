#!/usr/bin/env bash
# Removes what scripts/install.sh added: the service, the unit and the application in /opt.
# Keeps the config (/etc/asterisk-b24-bridge), the state (/var/lib/asterisk-b24-bridge) and the service user,
# so a reinstall picks up where it left off. Safe to run again.
#
#   sudo scripts/uninstall.sh            # keep config, state and user
#   sudo scripts/uninstall.sh --purge    # remove those too, and local unit overrides (drop-ins)
#   DESTDIR=/tmp/root scripts/uninstall.sh [--purge]
set -euo pipefail

NAME=asterisk-b24-bridge
SVC_USER=$NAME
SVC_GROUP=$NAME
APP=/opt/$NAME
ETC=/etc/$NAME
STATE=/var/lib/$NAME
UNIT_DIR=/etc/systemd/system
UNIT=$NAME.service
BIN=/usr/local/bin/$NAME

D=${DESTDIR:-}
[ "$D" = "/" ] && D=""
PURGE=no

log() { printf '%s: %s\n' "$NAME uninstall" "$*"; }
die() { printf '%s: error: %s\n' "$NAME uninstall" "$*" >&2; exit 1; }

for arg in "$@"; do
  case $arg in
    --purge) PURGE=yes ;;
    -h | --help) sed -n '2,8p' "$0"; exit 0 ;;
    *) die "unknown option: $arg (see --help)" ;;
  esac
done
if [ -z "$D" ] && [ "$(id -u)" != 0 ]; then die "run as root (or set DESTDIR)"; fi

systemd_live() { [ -z "$D" ] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; }

if systemd_live; then
  # SIGTERM: the daemon drains its Bitrix24 outbox before it exits.
  systemctl disable --now "$UNIT" >/dev/null 2>&1 || true
fi
rm -f "$D$UNIT_DIR/$UNIT"
rm -rf "$D$APP"
rm -f "$D$BIN"
log "removed $UNIT_DIR/$UNIT, $APP and $BIN"

if [ "$PURGE" = yes ]; then
  rm -rf "$D$UNIT_DIR/$UNIT.d" "$D$ETC" "$D$STATE"
  log "purged $ETC, $STATE and unit drop-ins"
  if [ -n "$D" ]; then
    log "DESTDIR set: not removing system user $SVC_USER"
  else
    if id -u "$SVC_USER" >/dev/null 2>&1; then userdel "$SVC_USER" && log "removed user $SVC_USER"; fi
    if getent group "$SVC_GROUP" >/dev/null; then groupdel "$SVC_GROUP" && log "removed group $SVC_GROUP"; fi
  fi
else
  log "kept $ETC (config, secrets), $STATE (outbox, ring-back state) and user $SVC_USER; --purge removes them"
fi

if systemd_live; then systemctl daemon-reload; fi
log "done"
