#!/usr/bin/env bash
# Plumb on VictoriaMetrics (storage.metrics: victoriametrics) against VictoriaMetrics alone, in the same run:
#   1. line-protocol ingest of the same payload (bench/payload.py, files of 10,000 lines; 1,000,000 samples:
#      1,000 hosts x 2 fields x 500 points) through Plumb into VictoriaMetrics vs straight into VictoriaMetrics
#      (bench/ingest.py: Python, 4 threads, keep-alive), fresh stores each round, alternated: samples/s;
#   2. a statistics read without percentiles (Sum, Maximum; 1 h at 60 s across 1,000 series) through Plumb vs the
#      same query_range straight to VictoriaMetrics (bench/query.py), median of 20 alternated runs.
# Plumb answers a write once VictoriaMetrics has made it searchable (/internal/force_flush, shared by concurrent
# writes); VictoriaMetrics alone answers once the samples are buffered.
# Usage: bash bench/victoriametrics.sh [ROUNDS]   (default 3; medians are reported)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
for pkg in victoria-metrics curl bc; do
  dpkg -s "$pkg" >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null; }
done
bash scripts/setup.sh >/dev/null
swift build -c release --product plumb 2>&1 | tail -1
PLUMB=$(swift build -c release --show-bin-path)/plumb
WORK=$(mktemp -d /tmp/plumb-vmbench.XXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
wait_http() { for _ in $(seq 150); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.2; done; echo "not up: $1" >&2; exit 1; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
rate() { python3 bench/ingest.py "$1" "$2" "$WORK/set" "$SAMPLES" 4 | python3 -c "import json,sys; print(json.load(sys.stdin)['samples_per_second'])"; }

# Two nodes: one behind Plumb, one alone, so neither write lands in a store the other has filled.
start() {
  rm -rf "$WORK/vm-plumb" "$WORK/vm-alone" "$WORK/p"
  victoria-metrics -storageDataPath="$WORK/vm-plumb" -httpListenAddr=127.0.0.1:18431 -retentionPeriod=100y -maxLabelsPerTimeseries=40 >"$WORK/vm1.log" 2>&1 & PIDS+=($!); V1=$!
  victoria-metrics -storageDataPath="$WORK/vm-alone" -httpListenAddr=127.0.0.1:18432 -retentionPeriod=100y -maxLabelsPerTimeseries=40 >"$WORK/vm2.log" 2>&1 & PIDS+=($!); V2=$!
  wait_http http://127.0.0.1:18431/health; wait_http http://127.0.0.1:18432/health
  printf 'storage:\n  metrics: victoriametrics\n  victoriametrics:\n    url: http://127.0.0.1:18431\n' > "$WORK/plumb.yaml"
  "$PLUMB" serve --config "$WORK/plumb.yaml" --data "$WORK/p" --listen 127.0.0.1:19410 >"$WORK/plumb.log" 2>&1 & PIDS+=($!); P=$!
  wait_http http://127.0.0.1:19410/readyz
  TOKEN=$(cat "$WORK/p/admin.token")
}
stop() { kill -TERM "$P" "$V1" "$V2"; wait "$P" "$V1" "$V2" 2>/dev/null || true; }

SAMPLES=$(python3 bench/payload.py "$WORK/set" regular 1000 500)
echo "== payload: $SAMPLES samples in $(ls "$WORK/set" | wc -l) files of 10,000 lines"
: > "$WORK/r.plumb"; : > "$WORK/r.vm"
for round in $(seq "$ROUNDS"); do
  start
  if [ $((round % 2)) = 1 ]; then order="plumb vm"; else order="vm plumb"; fi
  for who in $order; do
    if [ "$who" = plumb ]; then rate "http://127.0.0.1:19410/write?precision=s" "$TOKEN" >> "$WORK/r.plumb"
    else rate "http://127.0.0.1:18432/write?precision=s" - >> "$WORK/r.vm"; fi
  done
  if [ "$round" = 1 ]; then
    curl -fs http://127.0.0.1:18432/internal/force_flush >/dev/null
    echo "   statistics read, 20 alternated runs each"
    python3 bench/query.py http://127.0.0.1:19410 "$TOKEN" http://127.0.0.1:18432 20 --no-percentiles > "$WORK/query.json"
  fi
  stop
  printf "  round %s: through plumb %.0f/s, victoria-metrics alone %.0f/s\n" "$round" "$(tail -1 "$WORK/r.plumb")" "$(tail -1 "$WORK/r.vm")"
done
PM=$(median < "$WORK/r.plumb"); VM=$(median < "$WORK/r.vm")
echo
printf "ingest, median of %s: through plumb into victoria-metrics %.0f samples/s, victoria-metrics alone %.0f samples/s, ratio %.2fx\n" \
  "$ROUNDS" "$PM" "$VM" "$(echo "$PM / $VM" | bc -l)"
python3 - "$WORK/query.json" <<'PY'
import json, sys
q = json.load(open(sys.argv[1]))
print(f"statistics read (Sum, Maximum; 1 h at 60 s; 1,000 series), median of 20: through plumb {q['plumb_seconds']*1000:.1f} ms "
      f"({q['plumb_datapoints']} datapoints), victoria-metrics alone {q['vm_seconds']*1000:.1f} ms ({q['vm_datapoints']} datapoints), "
      f"ratio {q['plumb_seconds']/q['vm_seconds']:.2f}x")
PY
