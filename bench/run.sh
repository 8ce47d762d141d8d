#!/usr/bin/env bash
# Plumb's benchmarks, each against a peer measured in the same run:
#   1. line-protocol ingest, Plumb (durability: full, the default) vs VictoriaMetrics, same payloads (bench/payload.py:
#      files of 10,000 lines), two clients (bench/ingest.py: Python, 4 threads, keep-alive; and `xargs -P4 curl`, a
#      connection per file), two sets (1 M: 2,000 series x 500 points; 10 M: 10,000 series x 1,000 points), fresh
#      stores each round: samples/s; bytes on disk per sample once both settled (Plumb after a graceful stop, its
#      whole metrics store: metrics.sqlite*, metrics-journal/; VictoriaMetrics after a forced flush and merge);
#      peak RSS (VmHWM) during the 10 M ingest; bytes per sample on irregular real-looking data too;
#   2. a statistics query (Sum, Maximum, p99 over 1 h at 60 s across 1,000 series): Plumb's API vs VictoriaMetrics'
#      query_range, median of 20 alternated runs (bench/query.py);
#   3. POST /apps/sentiment/analyze (the instrumented plugin path) vs a bare Hummingbird route doing the same
#      work in the same binary, with wrk: requests/s and p99.
# Usage: bash bench/run.sh [ROUNDS] [SETS]   (defaults 3, "1m 10m"; medians are reported)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
SETS=${2:-1m 10m}
for pkg in wrk victoria-metrics curl; do
  dpkg -s "$pkg" >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null; }
done
bash scripts/setup.sh >/dev/null
swift build -c release --product plumb 2>&1 | tail -1
PLUMB=$(swift build -c release --show-bin-path)/plumb
WORK=$(mktemp -d /tmp/plumb-bench.XXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

wait_http() { for _ in $(seq 150); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.2; done; echo "not up: $1" >&2; exit 1; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
du_bytes() { du -scb "$@" 2>/dev/null | tail -1 | cut -f1; }
hwm_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }

start_pair() {  # fresh Plumb and VictoriaMetrics
  rm -rf "$WORK/p" "$WORK/vm"
  "$PLUMB" serve --data "$WORK/p" --listen 127.0.0.1:19400 >"$WORK/plumb.log" 2>&1 & PIDS+=($!); PPID_=$!
  victoria-metrics -storageDataPath="$WORK/vm" -httpListenAddr=127.0.0.1:18428 -retentionPeriod=100y >"$WORK/vm.log" 2>&1 & PIDS+=($!); VPID=$!
  wait_http http://127.0.0.1:19400/readyz; wait_http http://127.0.0.1:18428/health
  TOKEN=$(cat "$WORK/p/admin.token")
}
stop_pair() {  # settle both, then measure what is on disk
  curl -fs http://127.0.0.1:18428/internal/force_flush >/dev/null || true
  curl -fs http://127.0.0.1:18428/internal/force_merge >/dev/null || true
  # The merge runs in the background: wait until its directory stops changing for 3 s (at most 60 s).
  local last=-1 same=0
  for _ in $(seq 60); do
    local now; now=$(du_bytes "$WORK/vm")
    if [ "$now" = "$last" ]; then same=$((same + 1)); [ "$same" -ge 3 ] && break; else same=0; fi
    last=$now; sleep 1
  done
  kill -TERM "$PPID_" "$VPID"; wait "$PPID_" "$VPID" 2>/dev/null || true
  PBYTES=$(du_bytes "$WORK"/p/metrics.sqlite* "$WORK/p/metrics-journal"); VBYTES=$(du_bytes "$WORK/vm")
}
ingest() {  # ingest CLIENT URL TOKEN DIR SAMPLES → samples/s
  local client=$1 url=$2 token=$3 dir=$4 samples=$5
  if [ "$client" = python ]; then
    python3 bench/ingest.py "$url" "$token" "$dir" "$samples" 4 | python3 -c "import json,sys; print(json.load(sys.stdin)['samples_per_second'])"
  else
    local auth=(); [ "$token" != - ] && auth=(-H "Authorization: Bearer $token")
    local t0 t1; t0=$(date +%s.%N)
    ls "$dir"/*.lp | xargs -P4 -I{} curl -fsS -o /dev/null "${auth[@]}" -H "Content-Type: text/plain" --data-binary @{} "$url"
    t1=$(date +%s.%N)
    echo "$samples / ($t1 - $t0)" | bc -l
  fi
}

declare -A SAMPLES
echo "== payloads"
for set in $SETS; do
  case $set in 1m) hosts=1000; steps=500 ;; 10m) hosts=5000; steps=1000 ;; esac
  SAMPLES[$set]=$(python3 bench/payload.py "$WORK/set-$set" regular "$hosts" "$steps")
  echo "  $set: ${SAMPLES[$set]} samples in $(ls "$WORK/set-$set" | wc -l) files of 10,000 lines"
done
IRREGULAR=$(python3 bench/payload.py "$WORK/set-irregular" irregular 1000 334)
echo "  irregular: $IRREGULAR samples (latencies with jittered timestamps, decimal gauges, counters)"

SUMMARY=()
for set in $SETS; do
  for client in python curl; do
    echo "== ingest: set $set, client $client, $ROUNDS rounds (fresh stores each round)"
    : > "$WORK/r.plumb"; : > "$WORK/r.vm"; : > "$WORK/b.plumb"; : > "$WORK/b.vm"; : > "$WORK/m.plumb"; : > "$WORK/m.vm"
    for round in $(seq "$ROUNDS"); do
      start_pair
      # Alternate who goes first.
      if [ $((round % 2)) = 1 ]; then order="plumb vm"; else order="vm plumb"; fi
      for who in $order; do
        if [ "$who" = plumb ]; then
          ingest "$client" "http://127.0.0.1:19400/write?precision=s" "$TOKEN" "$WORK/set-$set" "${SAMPLES[$set]}" >> "$WORK/r.plumb"
        else
          ingest "$client" "http://127.0.0.1:18428/write?precision=s" - "$WORK/set-$set" "${SAMPLES[$set]}" >> "$WORK/r.vm"
        fi
      done
      hwm_kb "$PPID_" >> "$WORK/m.plumb"; hwm_kb "$VPID" >> "$WORK/m.vm"
      if [ "$set" = 1m ] && [ "$client" = python ] && [ "$round" = 1 ]; then
        echo "   statistics query, 20 alternated runs each"
        python3 bench/query.py http://127.0.0.1:19400 "$TOKEN" http://127.0.0.1:18428 20 > "$WORK/query.json"
      fi
      stop_pair
      echo "$PBYTES" >> "$WORK/b.plumb"; echo "$VBYTES" >> "$WORK/b.vm"
      printf "  round %s: plumb %.0f/s, victoria-metrics %.0f/s; settled bytes/sample plumb %.2f, vm %.2f; peak RSS MB plumb %d, vm %d\n" "$round" \
        "$(tail -1 "$WORK/r.plumb")" "$(tail -1 "$WORK/r.vm")" "$(echo "$PBYTES / ${SAMPLES[$set]}" | bc -l)" "$(echo "$VBYTES / ${SAMPLES[$set]}" | bc -l)" \
        "$(( $(tail -1 "$WORK/m.plumb") / 1024 ))" "$(( $(tail -1 "$WORK/m.vm") / 1024 ))"
    done
    P=$(median < "$WORK/r.plumb"); V=$(median < "$WORK/r.vm")
    PB=$(median < "$WORK/b.plumb"); VB=$(median < "$WORK/b.vm"); PM=$(median < "$WORK/m.plumb"); VM=$(median < "$WORK/m.vm")
    SUMMARY+=("$(printf "| %s | %s | %.0f | %.0f | %.2fx | %.2f | %.2f | %.2fx | %d | %d | %.2fx |" "$set" "$client" "$P" "$V" "$(echo "$P / $V" | bc -l)" \
      "$(echo "$PB / ${SAMPLES[$set]}" | bc -l)" "$(echo "$VB / ${SAMPLES[$set]}" | bc -l)" "$(echo "$PB / $VB" | bc -l)" "$((PM / 1024))" "$((VM / 1024))" "$(echo "$PM / $VM" | bc -l)")")
  done
done

echo "== irregular data: bytes on disk per sample, settled"
start_pair
ingest python "http://127.0.0.1:19400/write?precision=s" "$TOKEN" "$WORK/set-irregular" "$IRREGULAR" >/dev/null
ingest python "http://127.0.0.1:18428/write?precision=s" - "$WORK/set-irregular" "$IRREGULAR" >/dev/null
stop_pair
IRR=$(printf "irregular data, bytes/sample settled: plumb %.2f, victoria-metrics %.2f, ratio %.2fx" \
  "$(echo "$PBYTES / $IRREGULAR" | bc -l)" "$(echo "$VBYTES / $IRREGULAR" | bc -l)" "$(echo "$PBYTES / $VBYTES" | bc -l)")

echo
echo "| set | client | plumb samples/s | vm samples/s | ratio | plumb B/sample | vm B/sample | ratio | plumb peak RSS MB | vm peak RSS MB | ratio |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for row in "${SUMMARY[@]}"; do echo "$row"; done
echo "$IRR"
[ -f "$WORK/query.json" ] && python3 - "$WORK/query.json" <<'PY'
import json, sys
q = json.load(open(sys.argv[1]))
print(f"statistics query (Sum, Maximum, p99; 1 h at 60 s; 1,000 series), median of 20: plumb {q['plumb_seconds']*1000:.1f} ms "
      f"({q['plumb_datapoints']} datapoints), victoria-metrics {q['vm_seconds']*1000:.1f} ms ({q['vm_datapoints']} datapoints), "
      f"ratio {q['plumb_seconds']/q['vm_seconds']:.2f}x")
PY

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
