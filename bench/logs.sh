#!/usr/bin/env bash
# Log benchmarks (release build; medians of ROUNDS where repeated):
#   1. HTTP ingest: EVENTS Apache-style lines, 1,000 per request, 4 clients, into POST /api/v1/logs (each batch
#      committed with fsync before the answer) — events/s.
#   2. plumb bench-logs: the same kind of lines through batched store puts, the swift-log handler's call rate,
#      search over 1,000,000 stored events with a term, a space-delimited and a JSON pattern (in the table where
#      events land, then sealed into compressed blocks), the sealing rate, and bytes per stored event.
#   3. Peers: `gzip -6` of the same 1,000,000 lines (bytes per line, beside Plumb's bytes per stored event), and
#      for search GNU grep over the same 1,000,000 lines in a file (page cache warm), same term and the
#      regular expression equivalent to the space-delimited pattern.
# Grafana Loki is not in Debian (the `loki` package is a genetics tool) and nothing else is reachable, so it is
# not measured here.
# (grep writes its count to a file: with output to /dev/null GNU grep stops at the first match.)
# Usage: bash bench/logs.sh [EVENTS=1000000] [ROUNDS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-1000000}
ROUNDS=${2:-3}
swift build -c release --product plumb 2>&1 | tail -1
PLUMB=$(swift build -c release --show-bin-path)/plumb
WORK=$(mktemp -d /tmp/plumb-bench-logs.XXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "== HTTP ingest: $EVENTS events, 4 clients, $ROUNDS rounds"
: > "$WORK/http.rates"
for round in $(seq "$ROUNDS"); do
  rm -rf "$WORK/data"
  "$PLUMB" serve --data "$WORK/data" --listen 127.0.0.1:19601 >"$WORK/serve.log" 2>&1 & PIDS+=($!); SP=$!
  for _ in $(seq 100); do curl -fs http://127.0.0.1:19601/readyz >/dev/null 2>&1 && break; sleep 0.2; done
  python3 bench/logs_ingest.py plumb "http://127.0.0.1:19601/api/v1/logs/%2Fbench%2Faccess" "$(cat "$WORK/data/admin.token")" "$EVENTS" 4 \
    | python3 -c "import json,sys; print(json.load(sys.stdin)['events_per_second'])" | tee -a "$WORK/http.rates"
  kill -TERM "$SP"; wait "$SP" 2>/dev/null || true
done
echo "  median $(median < "$WORK/http.rates") events/s"

echo "== store, handler and search (plumb bench-logs)"
"$PLUMB" bench-logs --events 1000000 | tee "$WORK/bench.json"

echo "== peer: grep over the same 1,000,000 lines"
python3 - "$WORK/lines.txt" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for n in range(1_000_000):
        status = 500 if n % 100 == 0 else 200
        f.write(f'10.0.{n % 256}.{n % 7} - user{n % 50} [22/Nov/2026:10:00:00 +0000] "GET /item/{n} HTTP/1.1" {status} {n % 5000}\n')
PY
cat "$WORK/lines.txt" > /dev/null
for label in term regex; do
  : > "$WORK/$label.times"
  for round in $(seq "$ROUNDS"); do
    start=$(date +%s.%N)
    if [ "$label" = term ]; then grep -c -F '" 500 ' "$WORK/lines.txt" > "$WORK/count"; else grep -c -E '^[^ ]+ [^ ]+ [^ ]+ \[[^]]*\] "[^"]*" 5[^ ]* [^ ]+$' "$WORK/lines.txt" > "$WORK/count"; fi
    end=$(date +%s.%N)
    echo "$end - $start" | bc >> "$WORK/$label.times"
  done
  t=$(median < "$WORK/$label.times")
  echo "  grep $label: ${t} s, $(echo "1000000 / $t" | bc) lines/s"
done

echo "== size: Plumb's sealed blocks vs gzip -6 of the same lines"
gz=$(gzip -6 -c "$WORK/lines.txt" | wc -c)
python3 - "$WORK/bench.json" "$gz" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["storage"]
gz = int(sys.argv[2]) / 1_000_000
print(f"  lines {s['access_line_bytes_per_event']:.2f} B/event; gzip -6 {gz:.2f} B/line; "
      f"Plumb blocks {s['access_block_bytes_per_event']:.2f} B/event ({s['access_block_bytes_per_event'] / gz:.2f}x gzip -6, "
      f"with ids, timestamps and streams); whole database {s['database_bytes_per_stored_event']:.2f} B/stored event")
for kind in ("term", "delimited", "json"):
    t, b = d["search"][kind], d["search_sealed"][kind]
    print(f"  search {kind}: table {t['events_examined_per_second']:,.0f} events/s, sealed {b['events_examined_per_second']:,.0f} events/s")
PY
