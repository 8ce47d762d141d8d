#!/usr/bin/env bash
# PromQL query_range latency: 10 typical dashboard queries over 1,000 series and 6 hours (one sample a minute, step
# 30 s), Plumb against Prometheus and VictoriaMetrics on the same data, in the same run (bench/promql.py).
# Prometheus (Debian's 2.42) reads blocks that `promtool tsdb create-blocks-from openmetrics` made; VictoriaMetrics
# (Debian's) takes /api/v1/import/prometheus and is asked with nocache=1 (no rollup result cache); Plumb (the embedded
# store, line protocol at resolution 1) is asked through POST /api/v1/query_range as Grafana asks.
# Every query runs ROUNDS times on each server (order alternating) after a warm-up; medians reported.
# Usage: bash bench/promql.sh [ROUNDS]   (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-20}
for pkg in curl prometheus victoria-metrics; do
  dpkg -s "$pkg" >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null; }
done
swift build -c release --product plumb 2>&1 | tail -1
PLUMB=$(swift build -c release --show-bin-path)/plumb
WORK=$(mktemp -d /tmp/plumb-promqlbench.XXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
wait_http() { for _ in $(seq 300); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.2; done; echo "not up: $1" >&2; exit 1; }

END=$(( $(date +%s) / 60 * 60 - 60 ))
python3 bench/promql.py data "$WORK" "$END"
promtool tsdb create-blocks-from openmetrics "$WORK/data.om" "$WORK/prom" >/dev/null
printf 'global:\n  scrape_interval: 1m\n' > "$WORK/prometheus.yml"
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prom" --storage.tsdb.retention.time=30d \
  --web.listen-address=127.0.0.1:19491 --log.level=warn >"$WORK/prom.log" 2>&1 & PIDS+=($!)
victoria-metrics -storageDataPath="$WORK/vm" -httpListenAddr=127.0.0.1:19492 -retentionPeriod=100y \
  -search.latencyOffset=0s >"$WORK/vm.log" 2>&1 & PIDS+=($!)
"$PLUMB" serve --data "$WORK/p" --listen 127.0.0.1:19493 >"$WORK/plumb.log" 2>&1 & PIDS+=($!)
wait_http http://127.0.0.1:19491/-/ready; wait_http http://127.0.0.1:19492/health; wait_http http://127.0.0.1:19493/readyz
TOKEN=$(cat "$WORK/p/admin.token")
curl -fs --data-binary @"$WORK/vm.txt" http://127.0.0.1:19492/api/v1/import/prometheus
for f in "$WORK"/lp-*.txt; do
  # A 503 (the store is behind, Retry-After) is sent again, as a client should.
  for attempt in 1 2 3 4 5; do
    code=$(curl -s -o "$WORK/write.out" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" --data-binary @"$f" \
      "http://127.0.0.1:19493/write?precision=s&resolution=1")
    [ "$code" = 204 ] && break
    echo "write $f: $code $(cat "$WORK/write.out")" >&2
    [ "$code" = 503 ] || exit 1
    sleep 2
  done
done
curl -fs http://127.0.0.1:19492/internal/force_flush >/dev/null
sleep 2
echo "== data: 1000 series, 6 h at 60 s, loaded into prometheus, victoria-metrics and plumb"
python3 bench/promql.py time "$END" "$ROUNDS" prometheus=http://127.0.0.1:19491 \
  victoriametrics=http://127.0.0.1:19492 "plumb=http://127.0.0.1:19493=$TOKEN" | tee "$WORK/results.jsonl"
python3 - "$WORK/results.jsonl" "$ROUNDS" <<'EOF'
import json, math, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(f"\nquery_range, 6 h at step 30 s, median of {sys.argv[2]} (ms)")
print(f"{'prometheus':>11} {'victoria':>9} {'plumb':>8} {'/prom':>6} {'/vm':>6}  query")
ratios_p, ratios_v = [], []
for r in rows:
    m = r["median_ms"]
    rp, rv = m["plumb"] / m["prometheus"], m["plumb"] / m["victoriametrics"]
    ratios_p.append(rp); ratios_v.append(rv)
    print(f"{m['prometheus']:11.1f} {m['victoriametrics']:9.1f} {m['plumb']:8.1f} {rp:6.2f} {rv:6.2f}  {r['query']}")
g = lambda xs: math.exp(sum(map(math.log, xs)) / len(xs))
print(f"geometric mean of the ratios: plumb/prometheus {g(ratios_p):.2f}x, plumb/victoria-metrics {g(ratios_v):.2f}x")
EOF
