#!/usr/bin/env bash
# Generator efficiency: `plumb load` (closed model, no think time) against `wrk` on the same target — a minimal
# static nginx (one worker) on loopback — with the same connections, alternating RUNS times; prints each run and the
# medians of requests/s and of CPU seconds per 1,000 requests (user + system of the generator process).
#   bash bench/loadgen.sh [CONNECTIONS=50] [DURATION=10] [RUNS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
CONNECTIONS=${CONNECTIONS:-50}
DURATION=${DURATION:-10}
RUNS=${RUNS:-3}
PORT=${PORT:-9490}
swift build -c release --product plumb 2>&1 | tail -1
PLUMB=$(swift build -c release --show-bin-path)/plumb
WORK=$(mktemp -d /tmp/plumb-bench-loadgen.XXXXXX)
cat >"$WORK/nginx.conf" <<CONF
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 4096; }
http { access_log off; server { listen 127.0.0.1:$PORT; location / { return 200 "hello\n"; } } }
CONF
nginx -c "$WORK/nginx.conf"
trap 'kill $(cat "$WORK/nginx.pid") 2>/dev/null || true; rm -rf "$WORK"' EXIT
cat >"$WORK/static.yaml" <<YAML
version: 1
name: static
target: http://127.0.0.1:$PORT
vus: $CONNECTIONS
duration: ${DURATION}s
warmup: 1s
requests: [{path: /}]
YAML
# CPU seconds (user + system) of a command, from GNU time's output file.
cpu() { awk '{print $1 + $2}' "$1"; }
for run in $(seq "$RUNS"); do
  /usr/bin/time -f "%U %S" -o "$WORK/wrk.time" wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" "http://127.0.0.1:$PORT/" >"$WORK/wrk.out"
  WRK_RPS=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.out")
  WRK_N=$(awk '/requests in/ {print $1}' "$WORK/wrk.out")
  /usr/bin/time -f "%U %S" -o "$WORK/plumb.time" "$PLUMB" load "$WORK/static.yaml" --no-push --quiet --json "$WORK/plumb.json" >"$WORK/plumb.out"
  read -r P_RPS P_N < <(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["steps"][0]; print(s["throughput"], s["completed"])' "$WORK/plumb.json")
  # plumb's count covers the measured window; its CPU covers the warm-up second too, so scale requests by the ratio.
  python3 - "$run" "$WRK_RPS" "$WRK_N" "$(cpu "$WORK/wrk.time")" "$P_RPS" "$P_N" "$(cpu "$WORK/plumb.time")" "$DURATION" >>"$WORK/results" <<'PY'
import sys
run, wrps, wn, wcpu, prps, pn, pcpu, d = sys.argv[1:]
wrps, wn, wcpu, prps, pn, pcpu, d = float(wrps), float(wn), float(wcpu), float(prps), float(pn), float(pcpu), float(d)
ptotal = pn * d / (d - 1)
print(f"{run} {wrps:.0f} {prps:.0f} {prps / wrps:.3f} {wcpu / wn * 1000 * 1000:.1f} {pcpu / ptotal * 1000 * 1000:.1f}")
PY
  tail -1 "$WORK/results" | awk '{printf "run %s: wrk %s req/s, plumb load %s req/s (%.2f×); CPU per 1,000 requests: wrk %s ms, plumb load %s ms\n", $1, $2, $3, $4, $5, $6}'
done
python3 - "$WORK/results" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
med = lambda i: statistics.median(r[i] for r in rows)
print(f"median: wrk {med(1):.0f} req/s, plumb load {med(2):.0f} req/s, ratio {med(3):.2f}×; "
      f"CPU per 1,000 requests: wrk {med(4):.1f} ms, plumb load {med(5):.1f} ms")
PY
