#!/usr/bin/env bash
# Sensor streams benchmark (release build): DETECTORS simulated 1 KB/s detectors, each on its own long-lived chunked
# upload at two ~450-byte readings a second (`plumb load sensors`), for DURATION seconds (the first WARMUP not
# counted in the latency figures), against a server
# with `durability: full` (every acknowledged chunk is fsynced). Reports the ack latency (corrected, from the
# intended send), the server's CPU, the readings stored against the readings sent, and after delivery the bytes on
# disk per reading (segments, and the database). SEGMENT_AGE (seconds) makes the deliverer run during the load.
#   bash bench/sensor-streams.sh [DETECTORS=5000] [DURATION=70] [WARMUP=10] [SEGMENT_AGE=300]
set -euo pipefail
cd "$(dirname "$0")/.."
DETECTORS=${DETECTORS:-5000}
DURATION=${DURATION:-70}
WARMUP=${WARMUP:-10}
SEGMENT_AGE=${SEGMENT_AGE:-300}
PORT=${PORT:-9476}
swift build -c release --product plumb 2>&1 | tail -1
PLUMB=$(swift build -c release --show-bin-path)/plumb
DATA=$(mktemp -d /tmp/plumb-bench-streams.XXXXXX)
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT
ulimit -n "$(ulimit -Hn)"
cat >"$DATA/plumb.yaml" <<YAML
durability: full
plugins:
  sensors:
    segment_age: $SEGMENT_AGE
YAML
"$PLUMB" serve --config "$DATA/plumb.yaml" --data "$DATA/data" --listen "127.0.0.1:$PORT" >"$DATA/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
CPU0=$(awk '{print $14 + $15}' /proc/$SERVER/stat)
START=$(date +%s.%N)
"$PLUMB" load sensors --target "http://127.0.0.1:$PORT" --detectors "$DETECTORS" --duration "${DURATION}s" --warmup "${WARMUP}s" \
  --no-push --json "$DATA/report.json" | tee "$DATA/load.out" || true
END=$(date +%s.%N)
CPU1=$(awk '{print $14 + $15}' /proc/$SERVER/stat)
python3 -c "print(f'server CPU over the run (incl. setup): {($CPU1 - $CPU0) / $(getconf CLK_TCK) / ($END - $START) * 100:.0f} % of one core')"
DB="$DATA/data/plugins/sensors/sensors.sqlite"
python3 - "$DB" "$((DETECTORS * 2 * DURATION))" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
stored = db.execute("SELECT (SELECT COUNT(*) FROM readings) + (SELECT COUNT(*) FROM log)").fetchone()[0]
distinct = db.execute("SELECT COUNT(*) FROM (SELECT ts, detector FROM readings UNION SELECT ts, detector FROM log)").fetchone()[0]
print(f"stored readings (log + delivered): {stored} ({distinct} distinct) of {sys.argv[2]} sent (detectors x 2/s x duration, warm-up included)")
PY
TOKEN=$(cat "$DATA/data/admin.token")
curl -s -X POST -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/apps/sensors/deliver" >/dev/null
curl -s "http://127.0.0.1:$PORT/apps/sensors/segments" | python3 -c '
import json, os, sqlite3, sys
t = json.load(sys.stdin)["totals"]
path = sys.argv[1]
db = sqlite3.connect(path)
pages, free, size = (db.execute("PRAGMA " + p).fetchone()[0] for p in ("page_count", "freelist_count", "page_size"))
used = (pages - free) * size
files = sum(os.path.getsize(path + s) for s in ("", "-wal") if os.path.exists(path + s))
n = max(1, t["readings"])
print("segments: %d, readings %d, segment bytes %d (%.1f B/reading)" % (t["segments"], t["readings"], t["storedBytes"], t["storedBytes"] / n))
print("database pages in use %d bytes (%.1f B/reading: the delivered readings index, segments, registry); files with free pages and WAL %d bytes"
      % (used, used / n, files))
print("bytes on disk per reading after segmenting: %.1f" % ((t["storedBytes"] + used) / n))
' "$DATA/data/plugins/sensors/sensors.sqlite"
