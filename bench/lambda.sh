#!/usr/bin/env bash
# Python Lambda handlers (real awslambdaric) through Plumb, each figure beside a floor or a peer measured in the same
# run, the order rotated each round, medians of the rounds:
#  1. Warm overhead: a no-op handler invoked through POST /api/v1/functions/noop/invoke, one call at a time over a
#     keep-alive connection; beside the same handler called in a loop inside one Python process (the floor: no
#     process boundary, no HTTP) and Plumb's Swift function sentiment.classify through the same route.
#  2. Cold start: the autoscaler takes a function to zero instances, then a call starts a new runtime process; the
#     caller's latency and the REPORT line's Init Duration, beside the floor of starting python3 and importing
#     awslambdaric and the handler.
#  3. The comment example (examples/lambda/comments, VADER in Python, SQLite) against the Swift sentiment plugin's
#     POST /apps/sentiment/comments (VADER in Swift, SQLite): plumb load, closed model, requests/s and p99.
# Usage: bash bench/lambda.sh [ROUNDS]   (default 3; SECONDS_EACH=10, VUS=4; PLUMB=path skips the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
SECONDS_EACH=${SECONDS_EACH:-10}
VUS=${VUS:-4}
if [ -z "${PLUMB:-}" ]; then
  swift build -c release --product plumb 2>&1 | tail -1
  PLUMB=$(swift build -c release --show-bin-path)/plumb
fi
WORK=$(mktemp -d /tmp/plumb-lambdabench.XXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
wait_http() { for _ in $(seq 150); do curl -s -o /dev/null "$1" && return 0; sleep 0.2; done; echo "not up: $1" >&2; exit 1; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(d$1)"; }

mkdir -p "$WORK/code"
printf 'def handler(event, context):\n    return {}\n' > "$WORK/code/noop.py"
cat > "$WORK/plumb.yaml" <<YAML
functions:
  noop: {runtime: python3, handler: noop.handler, code: $WORK/code}
  cold:
    runtime: python3
    handler: noop.handler
    code: $WORK/code
    report_log: all
    autoscaling: {scale_to_zero_grace: 0, stable_window: 2, panic_window: 1}
  comments-create:
    runtime: python3
    handler: app.create_comment
    code: $PWD/examples/lambda/comments
    route: "POST /comments"
    access: public
    memory_mb: 256
    environment: {COMMENTS_DB: "\${PLUMB_DATA}/comments.sqlite"}
YAML
for who in sentiment lambda; do
  path=/apps/sentiment/comments; [ "$who" = lambda ] && path=/apps/lambda/comments
  cat > "$WORK/$who.yaml" <<YAML
version: 1
name: comments-$who
path: http
target: http://127.0.0.1:19481
vus: $VUS
duration: ${SECONDS_EACH}s
warmup: 2s
corpus: $PWD/loadtest/sentences.txt
requests:
  - {name: comment, method: POST, path: $path, body: '{"content": "{{sentence}}"}'}
YAML
done
"$PLUMB" serve --data "$WORK/p" --listen 127.0.0.1:19481 --config "$WORK/plumb.yaml" >"$WORK/plumb.log" 2>&1 & PIDS+=($!)
wait_http http://127.0.0.1:19481/readyz
TOKEN=$(cat "$WORK/p/admin.token")
URL=http://127.0.0.1:19481

echo "== 1. warm invocations, one at a time, ${SECONDS_EACH} s each"
: > "$WORK/w.noop"; : > "$WORK/w.swift"; : > "$WORK/w.floor"
warm() {
  case $1 in
    noop) python3 bench/lambda_bench.py http "$URL/api/v1/functions/noop/invoke" "$TOKEN" "$SECONDS_EACH" ;;
    swift) python3 bench/lambda_bench.py http "$URL/api/v1/functions/sentiment.classify/invoke" "$TOKEN" \
      "$SECONDS_EACH" '{"text": "ok"}' ;;
    floor) python3 bench/lambda_bench.py floor "$WORK/code" noop.handler "$SECONDS_EACH" ;;
  esac
}
orders=("noop swift floor" "swift floor noop" "floor noop swift")
for round in $(seq "$ROUNDS"); do
  for who in ${orders[$(((round - 1) % 3))]}; do
    out=$(warm "$who")
    [ "$(echo "$out" | field "['errors']")" = 0 ] || { echo "errors: $out" >&2; exit 1; }
    echo "$out" | field "['p50_us']" >> "$WORK/w.$who"
    echo "round $round: $who p50 $(echo "$out" | field "['p50_us']") µs, p99 $(echo "$out" | field "['p99_us']") µs, $(echo "$out" | field "['calls']") calls"
  done
done
NOOP=$(median < "$WORK/w.noop"); SWIFT=$(median < "$WORK/w.swift"); FLOOR=$(median < "$WORK/w.floor")
echo "== warm p50, medians of $ROUNDS: Python no-op through Plumb $NOOP µs; Swift sentiment.classify through Plumb $SWIFT µs; the handler in a loop in one process $FLOOR µs"
python3 -c "print('== overhead of a warm Python invocation: %.0f µs over the in-process floor; %.0f µs over the Swift function on the same route (%.2fx its latency)' % ($NOOP - $FLOOR, $NOOP - $SWIFT, $NOOP / $SWIFT))"

echo "== 2. cold starts (5 a round)"
: > "$WORK/c.call"; : > "$WORK/c.init"; : > "$WORK/c.spawn"
for round in $(seq "$ROUNDS"); do
  for who in $([ $((round % 2)) = 1 ] && echo "cold spawn" || echo "spawn cold"); do
    if [ "$who" = cold ]; then
      out=$(python3 bench/lambda_bench.py cold "$URL" "$TOKEN" cold 5)
      echo "$out" | field "['cold_call_p50_ms']" >> "$WORK/c.call"
      echo "$out" | field "['init_p50_ms']" >> "$WORK/c.init"
      echo "round $round: cold calls $(echo "$out" | field "['cold_calls_ms']") ms; Init Duration $(echo "$out" | field "['init_durations_ms']") ms"
    else
      out=$(python3 bench/lambda_bench.py spawn "$WORK/code" noop 5)
      echo "$out" | field "['spawn_p50_ms']" >> "$WORK/c.spawn"
      echo "round $round: python3 + awslambdaric + handler imports $(echo "$out" | field "['spawn_ms']") ms"
    fi
  done
done
CALL=$(median < "$WORK/c.call"); INIT=$(median < "$WORK/c.init"); SPAWN=$(median < "$WORK/c.spawn")
echo "== cold start, medians of $ROUNDS: the caller waits $CALL ms; Init Duration $INIT ms; python3 with the same imports $SPAWN ms"
python3 -c "print('== cold call / process-start floor: %.2fx' % ($CALL / $SPAWN))"

echo "== 3. the comment example vs the Swift sentiment plugin (plumb load, $VUS users, ${SECONDS_EACH} s)"
: > "$WORK/l.lambda"; : > "$WORK/l.sentiment"; : > "$WORK/p.lambda"; : > "$WORK/p.sentiment"
for round in $(seq "$ROUNDS"); do
  for who in $([ $((round % 2)) = 1 ] && echo "lambda sentiment" || echo "sentiment lambda"); do
    "$PLUMB" load "$WORK/$who.yaml" --json "$WORK/$who.json" --token "$TOKEN" > "$WORK/$who.out" 2>&1 || {
      cat "$WORK/$who.out" >&2; exit 1; }
    rate=$(field "['steps'][-1]['throughput']" < "$WORK/$who.json")
    p99=$(field "['steps'][-1]['latency_ms']['p99']" < "$WORK/$who.json")
    errors=$(field "['steps'][-1]['errors']" < "$WORK/$who.json")
    [ "$errors" = 0 ] || { echo "$who: $errors errors" >&2; exit 1; }
    echo "$rate" >> "$WORK/l.$who"; echo "$p99" >> "$WORK/p.$who"
    echo "round $round: $who $rate requests/s, p99 $p99 ms"
  done
done
LR=$(median < "$WORK/l.lambda"); SR=$(median < "$WORK/l.sentiment")
LP=$(median < "$WORK/p.lambda"); SP=$(median < "$WORK/p.sentiment")
echo "== medians of $ROUNDS: comment example (Python handler) $LR requests/s, p99 $LP ms; Swift sentiment plugin $SR requests/s, p99 $SP ms"
python3 -c "print('== Python handler / Swift plugin: %.2fx the requests/s' % ($LR / $SR))"
