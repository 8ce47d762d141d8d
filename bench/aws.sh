#!/usr/bin/env bash
# CloudWatch PutMetricData through Plumb's AWS endpoint (SigV4 verified, AWS JSON 1.0) against two peers in the same
# run: moto's CloudWatch (moto_server, PyPI; it checks no signature and stores in memory) and Plumb's own
# POST /api/v1/metrics with the same 100 datums. One client (bench/aws_ingest.py: 2 processes, keep-alive, one request
# replayed), 10 s per measurement, the order rotated each round; medians of the rounds and the ratios.
# Plumb answers once the samples are synced to its write-ahead log; moto once they are in a Python list.
# Usage: bash bench/aws.sh [ROUNDS]   (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
SECONDS_EACH=${SECONDS_EACH:-10}
swift build -c release --product plumb 2>&1 | tail -1
PLUMB=$(swift build -c release --show-bin-path)/plumb
WORK=$(mktemp -d /tmp/plumb-awsbench.XXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
wait_http() { for _ in $(seq 150); do curl -s -o /dev/null "$1" && return 0; sleep 0.2; done; echo "not up: $1" >&2; exit 1; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
"$PLUMB" serve --data "$WORK/p" --listen 127.0.0.1:19471 >"$WORK/plumb.log" 2>&1 & PIDS+=($!)
moto_server -p 19472 >"$WORK/moto.log" 2>&1 & PIDS+=($!)
wait_http http://127.0.0.1:19471/readyz; wait_http http://127.0.0.1:19472/
KEY=$(awk -F' = ' '/aws_access_key_id/ {print $2}' "$WORK/p/aws.credentials")
SECRET=$(awk -F' = ' '/aws_secret_access_key/ {print $2}' "$WORK/p/aws.credentials")
TOKEN=$(cat "$WORK/p/admin.token")
run() {
  case $1 in
    aws) python3 bench/aws_ingest.py http://127.0.0.1:19471 aws "$SECONDS_EACH" 2 "$KEY" "$SECRET" ;;
    own) python3 bench/aws_ingest.py http://127.0.0.1:19471 plumb "$SECONDS_EACH" 2 - "$TOKEN" ;;
    moto) python3 bench/aws_ingest.py http://127.0.0.1:19472 aws "$SECONDS_EACH" 2 bench-key bench-secret ;;
  esac | python3 -c "import json,sys; d=json.load(sys.stdin); assert d['errors'] == 0, d; print(d['datums_per_second'])"
}
: > "$WORK/r.aws"; : > "$WORK/r.own"; : > "$WORK/r.moto"
orders=("aws own moto" "own moto aws" "moto aws own")
for round in $(seq "$ROUNDS"); do
  for who in ${orders[$(((round - 1) % 3))]}; do
    rate=$(run "$who")
    echo "$rate" >> "$WORK/r.$who"
    echo "round $round: $who $rate datums/s"
  done
done
AWS=$(median < "$WORK/r.aws"); OWN=$(median < "$WORK/r.own"); MOTO=$(median < "$WORK/r.moto")
echo "== medians of $ROUNDS: AWS endpoint $AWS datums/s, Plumb's own route $OWN, moto $MOTO"
python3 -c "print('== AWS endpoint / moto: %.2fx; AWS endpoint / own route: %.2fx' % ($AWS / $MOTO, $AWS / $OWN))"
