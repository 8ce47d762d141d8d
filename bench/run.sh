#!/usr/bin/env bash
# Plumb's benchmarks, each against a peer measured in the same run:
#   1. line-protocol ingest: Plumb vs VictoriaMetrics, same payload (1,000,000 samples, 4 parallel clients, loopback),
#      samples/s and bytes on disk per sample;
#   2. POST /apps/sentiment/analyze (the instrumented plugin path) vs a bare Hummingbird route doing the same
#      work in the same binary, with wrk: requests/s and p99.
# Usage: bash bench/run.sh [SAMPLES] [ROUNDS]   (defaults 1000000, 3; medians are reported)
set -euo pipefail
cd "$(dirname "$0")/.."
SAMPLES=${1:-1000000}
ROUNDS=${2:-3}
for pkg in wrk victoria-metrics; do
  dpkg -s "$pkg" >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null; }
done
bash scripts/setup.sh >/dev/null
swift build -c release --product plumb 2>&1 | tail -1
PLUMB=$(swift build -c release --show-bin-path)/plumb
WORK=$(mktemp -d /tmp/plumb-bench.XXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

wait_http() { for _ in $(seq 100); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.2; done; echo "not up: $1" >&2; exit 1; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
du_bytes() { du -sb "$1" | cut -f1; }

echo "== ingest: $SAMPLES samples, 4 clients, line protocol, $ROUNDS rounds (fresh stores each round)"
: > "$WORK/plumb.rates"; : > "$WORK/vm.rates"; : > "$WORK/plumb.bytes"; : > "$WORK/vm.bytes"
for round in $(seq "$ROUNDS"); do
  rm -rf "$WORK/p" "$WORK/vm"
  "$PLUMB" serve --data "$WORK/p" --listen 127.0.0.1:19400 >"$WORK/plumb.log" 2>&1 & PIDS+=($!); PPID_=$!
  victoria-metrics -storageDataPath="$WORK/vm" -httpListenAddr=127.0.0.1:18428 -retentionPeriod=1y >"$WORK/vm.log" 2>&1 & PIDS+=($!); VPID=$!
  wait_http http://127.0.0.1:19400/readyz; wait_http http://127.0.0.1:18428/health
  TOKEN=$(cat "$WORK/p/admin.token")
  python3 bench/ingest.py "http://127.0.0.1:19400/write?precision=s" "$TOKEN" "$SAMPLES" 4 | tee -a "$WORK/ingest.json" \
    | python3 -c "import json,sys; print(json.load(sys.stdin)['samples_per_second'])" >> "$WORK/plumb.rates"
  python3 bench/ingest.py "http://127.0.0.1:18428/write?precision=s" - "$SAMPLES" 4 \
    | python3 -c "import json,sys; print(json.load(sys.stdin)['samples_per_second'])" >> "$WORK/vm.rates"
  # Bytes on disk once both have persisted everything: Plumb flushes its head and exits on SIGTERM;
  # VictoriaMetrics is told to flush, then stopped.
  curl -fs http://127.0.0.1:18428/internal/force_flush >/dev/null || true
  kill -TERM "$PPID_" "$VPID"; wait "$PPID_" "$VPID" 2>/dev/null || true
  python3 - "$WORK/p/metrics.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1]); db.execute("PRAGMA wal_checkpoint(TRUNCATE)"); db.execute("VACUUM"); db.close()
PY
  echo "$(du_bytes "$WORK/p/metrics.sqlite")" >> "$WORK/plumb.bytes"
  echo "$(du_bytes "$WORK/vm")" >> "$WORK/vm.bytes"
  echo "  round $round: plumb $(tail -1 "$WORK/plumb.rates" | cut -d. -f1)/s, victoria-metrics $(tail -1 "$WORK/vm.rates" | cut -d. -f1)/s"
done
P=$(median < "$WORK/plumb.rates"); V=$(median < "$WORK/vm.rates")
PB=$(median < "$WORK/plumb.bytes"); VB=$(median < "$WORK/vm.bytes")
printf "ingest samples/s (median): plumb %.0f, victoria-metrics %.0f, ratio %.2f\n" "$P" "$V" "$(echo "$P / $V" | bc -l)"
printf "bytes on disk per sample:  plumb %.2f, victoria-metrics %.2f\n" "$(echo "$PB / $SAMPLES" | bc -l)" "$(echo "$VB / $SAMPLES" | bc -l)"

echo "== POST /apps/sentiment/analyze (plugin pipeline) vs POST /bench/sentiment/analyze (bare route), wrk -t1 -c32 -d10s, $ROUNDS rounds"
rm -rf "$WORK/s"
"$PLUMB" serve --data "$WORK/s" --listen 127.0.0.1:19401 --bench-routes >"$WORK/plumb-s.log" 2>&1 & PIDS+=($!)
wait_http http://127.0.0.1:19401/readyz
wrk -t1 -c8 -d2s -s bench/analyze.lua http://127.0.0.1:19401/apps/sentiment/analyze >/dev/null   # warm-up
: > "$WORK/plugin.rps"; : > "$WORK/bare.rps"; : > "$WORK/plugin.p99"; : > "$WORK/bare.p99"
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}'; }
for round in $(seq "$ROUNDS"); do
  for kind in plugin bare; do
    path=/apps/sentiment/analyze; [ "$kind" = bare ] && path=/bench/sentiment/analyze
    out=$(wrk -t1 -c32 -d10s --latency -s bench/analyze.lua "http://127.0.0.1:19401$path")
    echo "$out" | awk '/Requests\/sec/ {print $2}' >> "$WORK/$kind.rps"
    echo "$out" | awk '$1=="99%" {print $2}' | to_ms >> "$WORK/$kind.p99"
    if echo "$out" | grep -q "Non-2xx"; then echo "$kind: non-2xx responses" >&2; exit 1; fi
  done
  echo "  round $round: plugin $(tail -1 "$WORK/plugin.rps") req/s p99 $(tail -1 "$WORK/plugin.p99") ms; bare $(tail -1 "$WORK/bare.rps") req/s p99 $(tail -1 "$WORK/bare.p99") ms"
done
PR=$(median < "$WORK/plugin.rps"); BR=$(median < "$WORK/bare.rps")
printf "sentiment analyze req/s (median): plugin %.0f, bare %.0f, ratio %.2f; p99 ms: plugin %s, bare %s\n" \
  "$PR" "$BR" "$(echo "$PR / $BR" | bc -l)" "$(median < "$WORK/plugin.p99")" "$(median < "$WORK/bare.p99")"
