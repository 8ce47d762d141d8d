#!/usr/bin/env bash
# Logs on PostgreSQL (storage.logs: postgres), release build, medians of ROUNDS:
#   - ingest: EVENTS Apache-style lines in batches of 1,000 through the log store (validation, the id counter whose
#     row lock orders appends, groups and streams, one unnest INSERT per batch, commit) against the peer: the same
#     batches inserted by the same client into a bare table with the same indexes (one unnest INSERT per batch,
#     commit) — the ceiling PostgreSQL itself sets. Both commit with PostgreSQL's defaults (fsync on,
#     synchronous_commit on), one batch at a time.
#   - search: a term, a space-delimited and a JSON pattern over every stored event (events examined/s).
# PostgreSQL 15 (Debian's postgresql-15) runs as the postgres user in a temporary cluster on a free port.
# Usage: bash bench/logs-postgres.sh [EVENTS=200000] [ROUNDS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-200000}
ROUNDS=${2:-3}
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$BIN/postgres" ] || { echo "PostgreSQL is not installed (PLUMB_TEST_PEERS=1 bash scripts/setup.sh)" >&2; exit 1; }
swift build -c release --product plumb 2>&1 | tail -1
PLUMB=$(swift build -c release --show-bin-path)/plumb
WORK=$(mktemp -d /tmp/plumb-bench-pg.XXXX)
chmod 755 "$WORK"
PGPID=
cleanup() { [ -n "$PGPID" ] && kill -INT "$PGPID" 2>/dev/null; sleep 1; rm -rf "$WORK"; }
trap cleanup EXIT
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$WORK/pg" && chown postgres:postgres "$WORK/pg" && chmod 700 "$WORK/pg"
setpriv --reuid=postgres --regid=postgres --clear-groups -- "$BIN/initdb" -D "$WORK/pg/data" -U plumb \
  --auth=trust --encoding=UTF8 >/dev/null
setpriv --reuid=postgres --regid=postgres --clear-groups -- "$BIN/postgres" -D "$WORK/pg/data" -p "$PORT" \
  -k "$WORK/pg" -c listen_addresses=127.0.0.1 >"$WORK/pg.log" 2>&1 &
PGPID=$!
for _ in $(seq 100); do grep -q "ready to accept connections" "$WORK/pg.log" 2>/dev/null && break; sleep 0.2; done
URL="postgres://plumb@127.0.0.1:$PORT/postgres?sslmode=disable"
echo "== logs on PostgreSQL $("$BIN/postgres" --version | awk '{print $3}'): $EVENTS events, batches of 1,000, $ROUNDS rounds"
: > "$WORK/rows"
for round in $(seq "$ROUNDS"); do
  "$PLUMB" bench-logs --postgres "$URL" --events "$EVENTS" > "$WORK/r.json"
  python3 - "$WORK/r.json" "$round" >> "$WORK/rows" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s = r["search"]
print(r["plumbPut"]["eventsPerSecond"], r["barePut"]["eventsPerSecond"], r["ingestRatio"],
      s["term"]["events_examined_per_second"], s["delimited"]["events_examined_per_second"], s["json"]["events_examined_per_second"])
print(f"  round {sys.argv[2]}: plumb {r['plumbPut']['eventsPerSecond']:.0f} events/s, bare inserts "
      f"{r['barePut']['eventsPerSecond']:.0f}/s ({r['ingestRatio']:.2f}x); search term "
      f"{s['term']['events_examined_per_second']:.0f}, delimited {s['delimited']['events_examined_per_second']:.0f}, "
      f"json {s['json']['events_examined_per_second']:.0f} events/s", file=sys.stderr)
PY
done
col() { awk -v c="$1" '{print $c}' "$WORK/rows" | median; }
printf 'ingest (median): plumb %.0f events/s, bare inserts %.0f events/s, ratio %.2fx\n' "$(col 1)" "$(col 2)" "$(col 3)"
printf 'search (median, events examined/s): term %.0f, delimited %.0f, json %.0f\n' "$(col 4)" "$(col 5)" "$(col 6)"
