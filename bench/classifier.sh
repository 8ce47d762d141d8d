#!/usr/bin/env bash
# Classifier benchmarks (release build), each with its peer in the same run:
# - training time on iris, breast cancer and digits (scikit-learn's data sets), Plumb vs Python XGBoost (exact method,
#   single thread, the same hyper-parameters), and prediction time per row (Plumb one row at a time; XGBoost one batch);
# - POST /apps/classifier/predict under wrk (64 connections, 2 threads, DURATION): stored predictions/s and p50/p99.
#   bash bench/classifier.sh [DURATION=15s]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-15s}
swift build -c release --product plumb 2>&1 | tail -1
PLUMB=$(swift build -c release --show-bin-path)/plumb
DATA=$(mktemp -d /tmp/plumb-bench-classifier.XXXXXX)
PORT=${PORT:-9473}
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT
python3 Tests/ClassifierTests/xgb_reference.py "$DATA" 1 >/dev/null   # writes the data sets as CSV
for name in iris breast_cancer digits; do
  echo "$name: plumb $("$PLUMB" bench-classifier "$DATA/$name.csv")"
  echo "$name: xgboost $(python3 bench/xgb_bench.py "$DATA/$name.csv")"
done
"$PLUMB" serve --data "$DATA/data" --listen "127.0.0.1:$PORT" >"$DATA/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
cat >"$DATA/predict.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"x1":6.7,"x2":3.3,"x3":5.7,"x4":2.5}'
wrk.headers["Content-Type"] = "application/json"
LUA
wrk -t2 -c64 -d"$DURATION" --latency -s "$DATA/predict.lua" "http://127.0.0.1:$PORT/apps/classifier/predict"
echo "stored: $(curl -s "http://127.0.0.1:$PORT/apps/classifier/predictions?limit=1000&after=0" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]), "on the first page")')"
