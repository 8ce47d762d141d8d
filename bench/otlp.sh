#!/usr/bin/env bash
# OTLP/HTTP metrics into Plumb (the embedded store, no config, POST /v1/metrics) against VictoriaMetrics' own
# /opentelemetry/v1/metrics, on the same samples, in the same run: bench/payload.py's regular set (1,000 hosts x 2
# fields x 500 points = 1,000,000 samples in files of 10,000), turned into OTLP exports by `plumb bench-payload
# --format otlp` (one protobuf ExportMetricsServiceRequest per file, as an SDK sends it: service.name `bench`, one
# gauge per name, host and region as attributes), sent by bench/ingest.py (Python, 4 threads, keep-alive).
# Fresh stores each round, the order alternated; medians reported.
# Plumb answers once the samples are in its write-ahead log (fsync'd); VictoriaMetrics once they are buffered.
# Debian's victoria-metrics (1.79) predates VictoriaMetrics' OTLP endpoint (1.92): set VICTORIA_METRICS to the
# binary of a later release (the README says how to build v1.93.0 with Debian's Go 1.19).
# Usage: VICTORIA_METRICS=/path/to/victoria-metrics bash bench/otlp.sh [ROUNDS]   (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
VM_BIN=${VICTORIA_METRICS:-victoria-metrics}
for pkg in curl; do
  dpkg -s "$pkg" >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null; }
done
swift build -c release --product plumb 2>&1 | tail -1
PLUMB=$(swift build -c release --show-bin-path)/plumb
WORK=$(mktemp -d /tmp/plumb-otlpbench.XXXX)
PIDS=()
if ! "$VM_BIN" -version >/dev/null 2>&1; then echo "no VictoriaMetrics at '$VM_BIN'" >&2; exit 1; fi
echo "== VictoriaMetrics: $VM_BIN $("$VM_BIN" -version 2>&1 | head -1)"
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
wait_http() { for _ in $(seq 150); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.2; done; echo "not up: $1" >&2; exit 1; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
rate() {
  INGEST_CONTENT_TYPE=application/x-protobuf \
    python3 bench/ingest.py "$1" "$2" "$WORK/otlp" "$SAMPLES" 4 |
    python3 -c "import json,sys; print(json.load(sys.stdin)['samples_per_second'])"
}

python3 bench/payload.py "$WORK/lp" regular 1000 500 >/dev/null
SAMPLES=$("$PLUMB" bench-payload --format otlp "$WORK/lp" "$WORK/otlp")
echo "== payload: $SAMPLES samples in $(ls "$WORK/otlp" | wc -l) OTLP exports ($(du -sh "$WORK/otlp" | cut -f1))"
: > "$WORK/r.plumb"; : > "$WORK/r.vm"
for round in $(seq "$ROUNDS"); do
  rm -rf "$WORK/vm" "$WORK/p"
  "$VM_BIN" -storageDataPath="$WORK/vm" -httpListenAddr=127.0.0.1:18433 -retentionPeriod=100y >"$WORK/vm.log" 2>&1 & PIDS+=($!); V=$!
  "$PLUMB" serve --data "$WORK/p" --listen 127.0.0.1:19411 >"$WORK/plumb.log" 2>&1 & PIDS+=($!); P=$!
  wait_http http://127.0.0.1:18433/health; wait_http http://127.0.0.1:19411/readyz
  # VictoriaMetrics served OTLP at /opentelemetry/api/v1/push before it took OTLP's own path.
  VM_PATH=/opentelemetry/v1/metrics
  if curl -s -X POST -H "Content-Type: application/x-protobuf" --data-binary '' "http://127.0.0.1:18433$VM_PATH" |
      grep -q "unsupported path"; then VM_PATH=/opentelemetry/api/v1/push; fi
  TOKEN=$(cat "$WORK/p/admin.token")
  if [ $((round % 2)) = 1 ]; then order="plumb vm"; else order="vm plumb"; fi
  for who in $order; do
    if [ "$who" = plumb ]; then rate "http://127.0.0.1:19411/v1/metrics" "$TOKEN" >> "$WORK/r.plumb"
    else rate "http://127.0.0.1:18433$VM_PATH" - >> "$WORK/r.vm"; fi
  done
  kill -TERM "$P" "$V"; wait "$P" "$V" 2>/dev/null || true
  printf "  round %s: plumb %.0f samples/s, victoria-metrics %.0f samples/s\n" "$round" "$(tail -1 "$WORK/r.plumb")" "$(tail -1 "$WORK/r.vm")"
done
PM=$(median < "$WORK/r.plumb"); VM=$(median < "$WORK/r.vm")
echo
printf "OTLP metrics, median of %s: plumb %.0f samples/s, victoria-metrics %.0f samples/s, ratio %.2fx\n" \
  "$ROUNDS" "$PM" "$VM" "$(python3 -c "print($PM / $VM)")"
