#!/usr/bin/env bash
# Installs Plumb as a systemd service on a Debian machine: the release binary in /usr/local/bin; its data files in
# /usr/local/share/plumb (the VADER lexicon, the support bot's intents, the classifier's iris data set, the shipped
# dashboards and alert files); the config, alert files and dashboards in /etc/plumb (an operator's own edits are
# kept: a file already there is not replaced); the hardened unit in /etc/systemd/system. Idempotent; run as root
# (or through sudo).
#
# For packaging (and the suite's test of this script): DESTDIR=/some/root installs below that directory and leaves
# systemd alone; PLUMB_BINARY=path installs that binary instead of building one (and skips scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
root="${DESTDIR:-}"
if [ -n "${PLUMB_BINARY:-}" ]; then
  binary="$PLUMB_BINARY"
else
  bash scripts/setup.sh
  swift build -c release --product plumb 2>&1 | tail -1
  binary="$(swift build -c release --show-bin-path)/plumb"
fi
install -d -m 0755 "$root/usr/local/bin"
install -m 0755 "$binary" "$root/usr/local/bin/plumb"
share="$root/usr/local/share/plumb"
install -d -m 0755 "$share/vader" "$share/support" "$share/classifier" "$share/dashboards" "$share/alerts" "$root/usr/local/share/doc/plumb"
install -m 0644 share/plumb/vader/* "$share/vader/"
install -m 0644 share/plumb/support/intents.yaml "$share/support/"
# The classifier trains its default model from iris.csv at first start (without it: ModelNotFound).
install -m 0644 share/plumb/classifier/iris.csv "$share/classifier/"
install -m 0644 dashboards/*.yaml "$share/dashboards/"
install -m 0644 alerts/*.yaml "$share/alerts/"
install -m 0644 README.md "$root/usr/local/share/doc/plumb/README.md"
install -m 0644 deploy/README.md "$root/usr/local/share/doc/plumb/DEPLOY.md"
etc="$root/etc/plumb"
install -d -m 0755 "$etc" "$etc/alerts" "$etc/dashboards"
if [ ! -f "$etc/plumb.yaml" ]; then
  sed -e 's|^alerts: .*|alerts: /etc/plumb/alerts|' -e 's|^dashboards: .*|dashboards: /etc/plumb/dashboards|' \
    deploy/plumb.yaml > "$etc/plumb.yaml"
fi
for f in alerts/*.yaml; do [ -f "$etc/alerts/$(basename "$f")" ] || install -m 0644 "$f" "$etc/alerts/"; done
for f in dashboards/*.yaml; do [ -f "$etc/dashboards/$(basename "$f")" ] || install -m 0644 "$f" "$etc/dashboards/"; done
install -d -m 0755 "$root/etc/systemd/system"
install -m 0644 deploy/plumb.service "$root/etc/systemd/system/plumb.service"
"$root/usr/local/bin/plumb" check --config "$etc/plumb.yaml" --alerts "$etc/alerts" --dashboards "$etc/dashboards"
if [ -n "$root" ]; then
  echo "install: staged below $root (systemd left alone)"
  exit 0
fi
systemd-analyze verify /etc/systemd/system/plumb.service
echo "install: unit exposure $(systemd-analyze security --offline=yes /etc/systemd/system/plumb.service 2>/dev/null | awk '/Overall exposure/ {print $(NF-2)}')"
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable --now plumb
  echo "install: plumb is running; the admin token is in /var/lib/plumb/admin.token"
else
  echo "install: systemd is not running here; start it later with: systemctl enable --now plumb"
fi
