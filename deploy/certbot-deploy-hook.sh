#!/bin/sh
# certbot deploy hook for Plumb's TLS listener: copies a renewed certificate where the service can read it, then
# `systemctl reload plumb` (SIGHUP) makes new connections use it; open connections keep theirs, nothing restarts.
# Install: cp deploy/certbot-deploy-hook.sh /etc/letsencrypt/renewal-hooks/deploy/plumb.sh (mode 0755).
# certbot sets RENEWED_LINEAGE to the certificate's live/ directory, e.g. /etc/letsencrypt/live/plumb.example.com.
# The key is made readable to the group `plumb`: create that system user once (`useradd --system --no-create-home
# --shell /usr/sbin/nologin plumb`), and the unit's DynamicUser=yes runs Plumb as it.
set -eu
: "${RENEWED_LINEAGE:?run by certbot, which sets RENEWED_LINEAGE}"
dir=/etc/plumb/tls
install -d -o root -g plumb -m 0750 "$dir"
# Copy under temporary names and rename, so a reload never reads a half-written file.
install -o root -g plumb -m 0644 "$RENEWED_LINEAGE/fullchain.pem" "$dir/.fullchain.pem.new"
install -o root -g plumb -m 0640 "$RENEWED_LINEAGE/privkey.pem" "$dir/.privkey.pem.new"
mv -f "$dir/.fullchain.pem.new" "$dir/fullchain.pem"
mv -f "$dir/.privkey.pem.new" "$dir/privkey.pem"
if systemctl is-active --quiet plumb; then
  systemctl reload plumb
fi
