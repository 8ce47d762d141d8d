#!/usr/bin/env bash
# Sensor ingest benchmark (release build): DETECTORS registered detectors, each reading one ingest request (the way
# a device on a flaky link posts), driven by wrk at 64 connections for DURATION; reports readings/s, the ack
# latency distribution (an ack is sent after the group commit), the equivalent number of 1 KB/s detectors (two
# readings a second each), and, after delivery into zlib segments, bytes on disk per reading.
# DURABILITY=normal runs the server with `durability: normal` (an ack then survives a crash of the process, not of
# the machine); the default, full, fsyncs every group commit.
#   bash bench/sensors.sh [DETECTORS=5000] [DURATION=60s] [CONNECTIONS=64] [DURABILITY=full]
set -euo pipefail
cd "$(dirname "$0")/.."
DETECTORS=${DETECTORS:-5000}
DURATION=${DURATION:-60s}
CONNECTIONS=${CONNECTIONS:-64}
DURABILITY=${DURABILITY:-full}
swift build -c release --product plumb 2>&1 | tail -1
PLUMB=$(swift build -c release --show-bin-path)/plumb
DATA=$(mktemp -d /tmp/plumb-bench-sensors.XXXXXX)
PORT=${PORT:-9475}
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT
echo "durability: $DURABILITY" >"$DATA/plumb.yaml"
"$PLUMB" serve --config "$DATA/plumb.yaml" --data "$DATA/data" --listen "127.0.0.1:$PORT" >"$DATA/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
echo "registering $DETECTORS detectors"
python3 - "$PORT" "$DETECTORS" <<'PY'
import json, sys, urllib.request
from concurrent.futures import ThreadPoolExecutor
port, n = sys.argv[1], int(sys.argv[2])
base = f"http://127.0.0.1:{port}/apps/sensors"
def post(path, body):
    urllib.request.urlopen(urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST"), timeout=30).read()
post("/projects", {"id": "muon"})
post("/sites", {"id": "s1", "project": "muon"})
with ThreadPoolExecutor(16) as pool:
    list(pool.map(lambda i: post("/detectors", {"id": f"D-{i:05d}", "site": "s1"}), range(n)))
PY
DETECTORS=$DETECTORS wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/sensors.lua "http://127.0.0.1:$PORT" | tee "$DATA/wrk.out"
RPS=$(awk '/Requests\/sec/ {print $2}' "$DATA/wrk.out")
python3 -c "print(f'equivalent 1 KB/s detectors (2 readings/s each): {float(\"$RPS\") / 2:.0f}')"
TOKEN=$(cat "$DATA/data/admin.token")
curl -s -X POST -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/apps/sensors/deliver" >/dev/null
curl -s "http://127.0.0.1:$PORT/apps/sensors/segments" | python3 -c '
import json, os, sys
t = json.load(sys.stdin)["totals"]
data = sys.argv[1]
db = sum(os.path.getsize(os.path.join(data, f)) for f in os.listdir(data) if f.startswith("sensors.sqlite"))
n = max(1, t["readings"])
print("segments: %d, readings %d, segment bytes %d (%.1f B/reading); database %d bytes (%.1f B/reading: index rows, WAL)"
      % (t["segments"], t["readings"], t["storedBytes"], t["storedBytes"] / n, db, db / n))
' "$DATA/data/plugins/sensors"
