#!/usr/bin/env bash
# Installs Plumb as a systemd service on a Debian machine: the release binary in /usr/local/bin, the VADER
# lexicon in /usr/local/share/plumb/vader, the config and alert files in /etc/plumb (kept when present), the
# hardened unit in /etc/systemd/system. Idempotent; run as root (or through sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product plumb 2>&1 | tail -1
install -m 0755 "$(swift build -c release --show-bin-path)/plumb" /usr/local/bin/plumb
install -d -m 0755 /usr/local/share/plumb/vader /usr/local/share/plumb/support /usr/local/share/doc/plumb
install -m 0644 share/plumb/vader/* /usr/local/share/plumb/vader/
install -m 0644 share/plumb/support/intents.yaml /usr/local/share/plumb/support/
install -m 0644 README.md /usr/local/share/doc/plumb/README.md
install -d -m 0755 /etc/plumb /etc/plumb/alerts /etc/plumb/dashboards
if [ ! -f /etc/plumb/plumb.yaml ]; then
  sed -e 's|^alerts: .*|alerts: /etc/plumb/alerts|' -e 's|^dashboards: .*|dashboards: /etc/plumb/dashboards|' \
    deploy/plumb.yaml > /etc/plumb/plumb.yaml
fi
for f in alerts/*.yaml; do [ -f "/etc/plumb/alerts/$(basename "$f")" ] || install -m 0644 "$f" /etc/plumb/alerts/; done
install -m 0644 deploy/plumb.service /etc/systemd/system/plumb.service
plumb check --config /etc/plumb/plumb.yaml
systemd-analyze verify /etc/systemd/system/plumb.service
echo "install: unit exposure $(systemd-analyze security --offline=yes /etc/systemd/system/plumb.service 2>/dev/null | awk '/Overall exposure/ {print $(NF-2)}')"
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable --now plumb
  echo "install: plumb is running; the admin token is in /var/lib/plumb/admin.token"
else
  echo "install: systemd is not running here; start it later with: systemctl enable --now plumb"
fi
