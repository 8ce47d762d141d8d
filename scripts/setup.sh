#!/usr/bin/env bash
# Installs what Plumb needs on a Debian machine (system libraries, the VADER lexicon) — idempotent.
# Run as root, or as a user who can sudo (it calls sudo for apt-get). Used by the README's first command and by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

need_apt=()
for pkg in libsqlite3-dev zlib1g-dev libsystemd-dev libpng-dev libjpeg-dev python3 python3-pip wamerican; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ "${PLUMB_TEST_PEERS:-0}" = 1 ]; then
  # Peers the test suite runs against: promtool (Prometheus), the fortune corpus for the VADER check,
  # openssl for the SMTP test's self-signed certificate, systemd for systemd-analyze (the unit file test),
  # headless Chromium and a font for the page tests, cjpeg for the JPEG upload test, tmux for the live dashboard test,
  # curl (built with nghttp2: HTTP/2) for the TLS listener tests, prometheus-alertmanager for the Alertmanager client's
  # test (started on loopback with its own config; the package's own service is not used), victoria-metrics for the
  # metric store's VictoriaMetrics backend (the conformance suite starts its own nodes on loopback), postgresql-15 for
  # logs on PostgreSQL and the cluster (the tests initdb their own clusters, run as the package's postgres user),
  # nginx-light as the load balancer of the multi-node test (run from deploy/cluster/nginx.conf on a free port),
  # prometheus-node-exporter for Prometheus to scrape and remote-write to Plumb (the remote write test).
  for pkg in prometheus prometheus-node-exporter fortunes fortunes-min openssl systemd chromium fonts-dejavu-core libjpeg-turbo-progs tmux curl prometheus-alertmanager victoria-metrics postgresql-15 nginx-light; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
  done
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# The test suite's Python peers for accounts: pyotp (TOTP codes both ways), PyJWT (tokens through the JWKS) and
# qrcode (the reference for the terminal QR code of `plumb mfa enrol`).
if [ "${PLUMB_TEST_PEERS:-0}" = 1 ] && ! python3 -c "import pyotp, jwt, qrcode" 2>/dev/null; then
  echo "setup: installing the pyotp, PyJWT and qrcode Python packages"
  python3 -m pip install --quiet pyotp "PyJWT[crypto]" qrcode 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages pyotp "PyJWT[crypto]" qrcode
fi

# Functions with `runtime: python3` run their handlers under AWS's Lambda runtime interface client (Apache-2.0), as
# Lambda's own Python images do.
if ! python3 -c "import awslambdaric" 2>/dev/null; then
  echo "setup: installing the awslambdaric Python package (the python3 runtime of Lambda handlers)"
  python3 -m pip install --quiet awslambdaric 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages awslambdaric
fi

# The VADER lexicon comes from the vaderSentiment package (MIT); it is installed, never committed.
if ! python3 -c "import vaderSentiment" 2>/dev/null; then
  echo "setup: installing the vaderSentiment Python package"
  python3 -m pip install --quiet vaderSentiment 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages vaderSentiment
fi
vader_dir=$(python3 -c "import os, vaderSentiment; print(os.path.dirname(vaderSentiment.__file__))")
mkdir -p share/plumb/vader
cp "$vader_dir/vader_lexicon.txt" "$vader_dir/emoji_utf8_lexicon.txt" share/plumb/vader/
echo "setup: VADER lexicon installed in $(pwd)/share/plumb/vader"

# The iris data set comes from scikit-learn (BSD), which ships it as iris.csv; it is installed, never committed.
# The classifier trains its default model `iris` from it at first start.
if ! python3 -c "import sklearn" 2>/dev/null; then
  echo "setup: installing the scikit-learn Python package"
  python3 -m pip install --quiet scikit-learn 2>/dev/null \
    || python3 -m pip install --quiet --break-system-packages scikit-learn
fi
mkdir -p share/plumb/classifier
python3 - <<'PY'
import csv, os, sklearn
source = os.path.join(os.path.dirname(sklearn.__file__), "datasets", "data", "iris.csv")
with open(source) as f:
    rows = list(csv.reader(f))
names = rows[0][2:]
with open("share/plumb/classifier/iris.csv", "w", newline="") as out:
    w = csv.writer(out)
    w.writerow(["x1", "x2", "x3", "x4", "label"])
    for r in rows[1:]:
        w.writerow(r[:4] + [names[int(r[4])]])
PY
echo "setup: iris data set installed in $(pwd)/share/plumb/classifier/iris.csv"

if [ "${PLUMB_TEST_PEERS:-0}" = 1 ]; then
  # Start headless Chromium once, so its first start on a fresh machine (font caches, profile) is not inside a test,
  # and so a Chromium that cannot start here says so, with its own words, before the suite runs.
  chromium_bin=$(command -v chromium || command -v chromium-browser || true)
  if [ -n "$chromium_bin" ]; then
    if ! out=$(timeout 120 "$chromium_bin" --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage \
        --user-data-dir="$(mktemp -d)" --dump-dom about:blank 2>&1); then
      echo "setup: warning: headless Chromium did not start; the page tests will fail. It printed:"
      echo "$out" | tail -20
    fi
  fi
  # Test peers: the SMTP server the notification tests deliver to, the WebSocket client of the chat tests.
  # XGBoost (the CPU-only wheel) is the reference of the classifier's parity tests; requests is one of the TLS
  # listener's Python clients; openapi-schema-validator (with PyYAML) is the second reader of docs/openapi.yaml; the
  # OpenTelemetry SDK with its OTLP/HTTP exporters is the client of the OTLP ingest tests; boto3 and the aws CLI
  # are the clients of the AWS API tests, cbor2 writes their raw Smithy RPC v2 CBOR requests, moto's server mode is
  # what their answers' shapes are compared with.
  for spec in aiosmtpd:aiosmtpd websockets:websockets xgboost:xgboost-cpu requests:requests yaml:pyyaml \
    openapi_schema_validator:openapi-schema-validator opentelemetry.sdk:opentelemetry-sdk \
    opentelemetry.exporter.otlp.proto.http:opentelemetry-exporter-otlp-proto-http boto3:boto3 awscli:awscli cbor2:cbor2 moto.server:moto[server]; do
    module=${spec%%:*}
    package=${spec#*:}
    if ! python3 -c "import $module" 2>/dev/null; then
      echo "setup: installing the $package Python package (test peer)"
      python3 -m pip install --quiet "$package" 2>/dev/null \
        || python3 -m pip install --quiet --break-system-packages "$package"
    fi
  done
fi
